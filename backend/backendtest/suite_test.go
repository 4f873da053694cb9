package backendtest

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
)

func TestCasesWellFormed(t *testing.T) {
	seen := map[string]bool{}
	perKernel := map[backend.Kernel]int{}
	for _, c := range Cases() {
		name := c.FullName()
		require.False(t, seen[name], "duplicate case %s", name)
		seen[name] = true
		perKernel[c.Kernel()]++
		require.NoError(t, c.Params.Validate(), name)
		sizes := c.Params.BufferSizes()
		require.Len(t, c.Init, len(sizes), name)
		require.NotEmpty(t, c.Outputs(), name)
		outs := map[int]bool{}
		for _, o := range c.Outputs() {
			require.True(t, o >= 0 && o < len(sizes), name)
			outs[o] = true
		}
		for i := range sizes {
			j, aliased := c.Alias[i]
			if aliased {
				require.Less(t, j, i, "%s: alias must point to an earlier slot", name)
				require.True(t, backend.MayShare(c.Params, j, i), "%s: kernel does not allow aliasing", name)
			}
			if c.Init[i] == nil && !aliased {
				require.True(t, outs[i], "%s: NaN-poisoned slot %d must be an output", name, i)
			}
		}
		in := c.Inputs()
		_, packed := c.Params.(backend.ResizeBilinear)   // packed bytes may spell NaN
		_, counting := c.Params.(backend.CountNonfinite) // NaN is what it counts
		for i, v := range in {
			require.Len(t, v, sizes[i]+c.Slack, name)
			if c.Init[i] != nil && !packed && !counting {
				for k, x := range v[:sizes[i]] {
					if x != x {
						require.Failf(t, "NaN input", "%s: input %d[%d] is NaN", name, i, k)
					}
				}
			}
		}
		again := c.Inputs()
		for i := range in {
			for k := range in[i] {
				if math.Float32bits(in[i][k]) != math.Float32bits(again[i][k]) {
					require.Failf(t, "inputs not reproducible", "%s buffer %d[%d]", name, i, k)
				}
			}
		}
	}
	for _, k := range backend.Kernels() {
		assert.GreaterOrEqual(t, perKernel[k], 3, "kernel %s needs cases", k)
		_, ok := Tolerances[k]
		assert.True(t, ok, "kernel %s has no tolerance", k)
	}
	assert.Len(t, Tolerances, len(backend.Kernels()))
	// The odd sizes, batch 1, real AlexNet channels and the in-place
	// variants are all there.
	for _, want := range []string{"relu_fwd/n1", "relu_fwd/n65537", "relu_fwd/inplace_n33", "relu_bwd/inplace_n33",
		"dropout_fwd/p0.5_n4099_inplace", "conv2d_fwd/alexnet_conv1", "conv2d_bwd_filter/alexnet_conv5",
		"conv2d_fwd/batch1_k129_s2", "maxpool_fwd/alexnet_pool2", "maxpool_bwd/ties",
		"gemm/17x31x33_TT_a0.5_b1", "gemm/alexnet_fc1_real_width_batch1",
		"resize_bilinear/fashion_28_to_224_packed", "softmax_xent/large_logits_n17_c10"} {
		assert.True(t, seen[want], "missing case %s", want)
	}
}

func TestInputsRanges(t *testing.T) {
	for _, c := range Cases() {
		in := c.Inputs()
		switch p := c.Params.(type) {
		case backend.SoftmaxXent:
			for _, l := range in[1][:p.N] {
				if !(l >= 0 && l < float32(p.C) && l == float32(int(l))) {
					require.Failf(t, "bad label", "%s label %v", c.FullName(), l)
				}
			}
		case backend.Adam:
			for _, v := range in[3][:p.N] {
				if !(v >= 0) {
					require.Failf(t, "negative v", "%s: %v", c.FullName(), v)
				}
			}
		case backend.DropoutFwd:
			for _, v := range in[0][:p.N] {
				if !(math.Abs(float64(v)) >= 1e-3) {
					require.Failf(t, "dropout input near 0", "%s: %v", c.FullName(), v)
				}
			}
		case backend.ResizeBilinear:
			n := int(p.N * p.InH * p.InW)
			for i := range n {
				var b float32
				if p.Packed != 0 {
					b = float32(backend.UnpackByte(in[0], i))
				} else {
					b = in[0][i]
				}
				if !(b >= 0 && b <= 255 && b == float32(int(b))) {
					require.Failf(t, "bad pixel", "%s: %v", c.FullName(), b)
				}
			}
		case backend.MaxPoolBwd:
			g := p.Pool2DShape
			for _, v := range in[1][:g.YLen()] {
				if !(v >= 0 && v < float32(g.H*g.W)) {
					require.Failf(t, "bad idx", "%s: %v", c.FullName(), v)
				}
			}
		}
	}
}

func TestTolerance(t *testing.T) {
	tol := Tolerance{Atol: 1e-3, Rtol: 1e-2}
	assert.True(t, tol.Within(1.0105, 1))
	assert.False(t, tol.Within(1.0115, 1))
	assert.False(t, tol.Within(math.NaN(), math.NaN()), "NaN in got always fails")
	assert.False(t, tol.Within(math.NaN(), 1))
	assert.True(t, tol.Within(math.Inf(1), math.Inf(1)))
	assert.False(t, Tolerance{}.Within(1+1e-7, 1), "zero tolerance is exact")
	assert.True(t, Tolerance{}.Within(0, math.Copysign(0, -1)))

	small := ToleranceFor(backend.Gemm{M: 1, N: 1, K: 100})
	assert.Equal(t, Tolerances[backend.KGemm], small)
	big := ToleranceFor(backend.Gemm{M: 1, N: 1, K: 4 * ToleranceUnit})
	assert.InDelta(t, 2*Tolerances[backend.KGemm].Atol, big.Atol, 1e-12, "Atol scales with sqrt(K/1024)")
	assert.Equal(t, Tolerances[backend.KReluFwd], ToleranceFor(backend.ReluFwd{N: 1 << 20}))
}

// runFake runs the suite on f filtered to filter, Large cases only when
// long is set.
func runFake(t *testing.T, f *faulty, filter string, long ...bool) Report {
	t.Helper()
	defer f.Device.Close()
	rep := Run(f, Options{Filter: filter, Short: len(long) == 0 || !long[0]})
	require.NotEmpty(t, rep.Results, filter)
	return rep
}

// failedCases lists the failed numeric cases (bad_inputs excluded).
func failedCases(rep Report) (failed, passed []string) {
	for _, r := range rep.Results {
		if r.Case == BadInputsName {
			continue
		}
		if r.Pass {
			passed = append(passed, r.Name())
		} else {
			failed = append(failed, r.Name())
		}
	}
	return failed, passed
}

func TestReferencePassesItself(t *testing.T) {
	dev := ref.New()
	defer dev.Close()
	var progress int
	rep := Run(dev, Options{Short: true, Progress: func(Result) { progress++ }})
	var buf bytes.Buffer
	require.NoError(t, rep.Format(&buf))
	require.False(t, rep.Failed(), buf.String())
	assert.Equal(t, len(rep.Results), progress)
	assert.Contains(t, buf.String(), "all ")
	sum := rep.Summary()
	require.Len(t, sum, len(backend.Kernels())+1)
	for _, s := range sum {
		assert.Zero(t, s.Failed, s.Kernel)
		assert.Positive(t, s.Checks, s.Kernel)
	}
	for _, r := range rep.Results {
		assert.False(t, CasesOf(r.Kernel) != nil && r.Case != BadInputsName && r.Elements == 0, "%s compared nothing", r.Name())
	}
}

func TestSuiteFailsPerturbedOutput(t *testing.T) {
	f := &faulty{Device: ref.New(), dispatch: after(backend.KGemm, 2, func(_ backend.Params, v []float32) {
		v[len(v)-1] += 1e-3
	})}
	rep := runFake(t, f, "gemm")
	failed, passed := failedCases(rep)
	assert.Empty(t, passed, "a 1e-3 error in the last element must fail every gemm case")
	assert.NotEmpty(t, failed)
	assert.True(t, rep.Failed())
	r := rep.Results[0]
	assert.Equal(t, 2, r.Worst.Buffer)
	assert.Equal(t, 1, r.Mismatches)
	assert.InDelta(t, 1e-3, r.MaxAbsErr, 1e-6)
	assert.InDelta(t, 1e-3, r.Worst.Got-r.Worst.Ref, 1e-6)
}

func TestSuiteFailsUnwrittenOutput(t *testing.T) {
	// relu_fwd that leaves the last element of y unwritten (NaN poison).
	f := &faulty{Device: ref.New(), dispatch: after(backend.KReluFwd, 1, func(_ backend.Params, v []float32) {
		v[len(v)-1] = float32(math.NaN())
	})}
	rep := runFake(t, f, "relu_fwd/")
	failed, passed := failedCases(rep)
	assert.Empty(t, passed)
	assert.Len(t, failed, len(CasesOf(backend.KReluFwd)))
	assert.True(t, math.IsInf(rep.Results[0].MaxAbsErr, 1))
	assert.True(t, math.IsNaN(rep.Results[0].Worst.Got))
}

func TestSuiteFailsNaNLeakWithBetaZero(t *testing.T) {
	// A gemm that always reads C: with Beta == 0 it multiplies by a tiny
	// beta instead, so the NaN poison leaks.
	f := &faulty{Device: ref.New(), dispatch: func(d *ref.Device, p backend.Params, bufs []backend.Buffer) error {
		if g, ok := p.(backend.Gemm); ok && g.Beta == 0 {
			g.Beta = 1e-30
			p = g
		}
		return d.Dispatch(p, bufs...)
	}}
	rep := runFake(t, f, "gemm")
	for _, r := range rep.Results {
		c, ok := caseNamed(r.Name())
		if !ok {
			continue
		}
		if c.Params.(backend.Gemm).Beta == 0 {
			assert.False(t, r.Pass, "%s must fail: NaN leaked from C", r.Name())
		} else {
			assert.True(t, r.Pass, "%s: %s", r.Name(), r.Detail())
		}
	}
}

func caseNamed(full string) (Case, bool) {
	for _, c := range Cases() {
		if c.FullName() == full {
			return c, true
		}
	}
	return Case{}, false
}

func TestSuiteFailsWrongDropoutMask(t *testing.T) {
	// Another seed: a different mask with the same keep rate.
	f := &faulty{Device: ref.New(), dispatch: func(d *ref.Device, p backend.Params, bufs []backend.Buffer) error {
		if q, ok := p.(backend.DropoutFwd); ok {
			q.Seed++
			p = q
		}
		return d.Dispatch(p, bufs...)
	}}
	rep := runFake(t, f, "dropout_fwd")
	for _, r := range rep.Results {
		c, ok := caseNamed(r.Name())
		if !ok {
			continue
		}
		p := c.Params.(backend.DropoutFwd)
		if p.P == 0 || p.P == 1 || p.N == 1 {
			continue // the mask does not depend on the seed (or may not)
		}
		assert.False(t, r.Pass, "%s must fail with a wrong mask", r.Name())
	}
}

func TestSuiteFailsOutOfBoundsWrite(t *testing.T) {
	// fill sized from Buffer.Len() instead of params: writes the slack.
	f := &faulty{Device: ref.New(), dispatch: func(d *ref.Device, p backend.Params, bufs []backend.Buffer) error {
		if q, ok := p.(backend.Fill); ok && len(bufs) == 1 && bufs[0] != nil {
			q.N = uint32(bufs[0].Len())
			p = q
		}
		return d.Dispatch(p, bufs...)
	}}
	rep := runFake(t, f, "fill/")
	slacked := 0
	for _, r := range rep.Results {
		c, ok := caseNamed(r.Name())
		if !ok {
			continue
		}
		if c.Slack > 0 {
			slacked++
			assert.False(t, r.Pass, "%s must fail: slack overwritten", r.Name())
			assert.True(t, r.Worst.Slack, r.Name())
		} else {
			assert.True(t, r.Pass, r.Name())
		}
	}
	assert.Positive(t, slacked)
}

func TestSuiteFailsLastMaxPool(t *testing.T) {
	f := &faulty{Device: ref.New(), dispatch: hostDispatch(backend.KMaxPoolFwd, poolLastMax)}
	rep := runFake(t, f, "maxpool_fwd")
	for _, r := range rep.Results {
		if strings.Contains(r.Case, "ties") {
			assert.False(t, r.Pass, "%s must fail: last maximum chosen", r.Name())
		} else if r.Case != BadInputsName {
			assert.True(t, r.Pass, "%s: random inputs have no ties: %s", r.Name(), r.Detail())
		}
	}
}

func TestSuiteAcceptsFloat32Accumulation(t *testing.T) {
	for _, k := range []struct {
		k backend.Kernel
		f func(backend.Params, [][]float32)
	}{{backend.KGemm, gemm32}, {backend.KConv2DFwd, conv32}} {
		f := &faulty{Device: ref.New(), dispatch: hostDispatch(k.k, k.f)}
		rep := runFake(t, f, string(k.k)+"/", !testing.Short())
		var buf bytes.Buffer
		require.NoError(t, rep.Format(&buf))
		assert.False(t, rep.Failed(), buf.String())
		worst := 0.0
		for _, r := range rep.Results {
			worst = max(worst, r.MaxAbsErr)
		}
		assert.Positive(t, worst, "float32 accumulation differs somewhere")
		t.Logf("%s float32 naive: worst |err| %.3g", k.k, worst)
	}
}

func TestResizeToleranceIsOneLevel(t *testing.T) {
	shift := func(d float32) *faulty {
		return &faulty{Device: ref.New(), dispatch: after(backend.KResizeBilinear, 1, func(_ backend.Params, v []float32) {
			v[len(v)/2] += d
		})}
	}
	rep := runFake(t, shift(1.0/255), "resize_bilinear/down")
	assert.False(t, rep.Failed(), "one uint8 level is tolerated")
	rep = runFake(t, shift(2.0/255), "resize_bilinear/down")
	failed, passed := failedCases(rep)
	assert.Empty(t, passed, "two uint8 levels fail")
	assert.NotEmpty(t, failed)
}

func TestSuiteReportsPanics(t *testing.T) {
	f := &faulty{Device: ref.New(), dispatch: func(d *ref.Device, p backend.Params, bufs []backend.Buffer) error {
		if p != nil && p.Kernel() == backend.KAxpy {
			var s []float32
			_ = s[len(bufs)+3] // index out of range
		}
		return d.Dispatch(p, bufs...)
	}}
	rep := runFake(t, f, "a")
	sawAxpy, sawOther := false, false
	for _, r := range rep.Results {
		if r.Kernel == backend.KAxpy {
			sawAxpy = true
			require.Error(t, r.Err, r.Name())
			assert.ErrorIs(t, r.Err, ErrPanic)
			assert.False(t, r.Pass)
		} else {
			sawOther = true
			assert.True(t, r.Pass, "%s: %s", r.Name(), r.Detail())
		}
	}
	assert.True(t, sawAxpy && sawOther)
}

func TestSuiteFailsAcceptedBadInputs(t *testing.T) {
	// A backend that skips CheckDispatch and ignores what goes wrong.
	f := &faulty{Device: ref.New(), dispatch: func(d *ref.Device, p backend.Params, bufs []backend.Buffer) error {
		_ = d.Dispatch(p, bufs...)
		return nil
	}}
	rep := runFake(t, f, "scale/"+BadInputsName)
	require.Len(t, rep.Results, 1)
	assert.False(t, rep.Results[0].Pass)
	assert.Contains(t, rep.Results[0].Err.Error(), "dispatch returned no error")

	// One whose errors do not name the kernel.
	f = &faulty{Device: ref.New(), dispatch: func(d *ref.Device, p backend.Params, bufs []backend.Buffer) error {
		if err := d.Dispatch(p, bufs...); err != nil {
			return errInjected
		}
		return nil
	}}
	rep = runFake(t, f, "gemm/"+BadInputsName)
	require.Len(t, rep.Results, 1)
	assert.Contains(t, rep.Results[0].Err.Error(), "does not name the kernel")
}

func TestSuiteFailsCanonicalisingRead(t *testing.T) {
	// A Read that passes values through float arithmetic quiets NaNs.
	f := &faulty{Device: ref.New(), read: func(d *ref.Device, b backend.Buffer, off int, dst []float32) error {
		if err := d.Read(b, off, dst); err != nil {
			return err
		}
		for i, v := range dst {
			if v != v {
				dst[i] = float32(math.NaN())
			}
		}
		return nil
	}}
	rep := runFake(t, f, string(IOKernel)+"/")
	require.Len(t, rep.Results, 1)
	assert.False(t, rep.Results[0].Pass)
	assert.Contains(t, rep.Results[0].Err.Error(), "read back as bits")
}

func TestCheckRelease(t *testing.T) {
	require.NoError(t, CheckRelease(func() (backend.Device, error) { return ref.New(), nil }))

	leaky := func() (backend.Device, error) {
		return &faulty{Device: ref.New(), live: func(d *ref.Device) int { return d.LiveBuffers() + 1 }}, nil
	}
	assert.ErrorContains(t, CheckRelease(leaky), "LiveBuffers()")

	closeTwiceFails := func() (backend.Device, error) {
		n := 0
		return &faulty{Device: ref.New(), close: func(d *ref.Device) error {
			n++
			if n > 1 {
				return errInjected
			}
			return d.Close()
		}}, nil
	}
	assert.ErrorIs(t, CheckRelease(closeTwiceFails), errInjected)

	closePanics := func() (backend.Device, error) {
		return &faulty{Device: ref.New(), close: func(*ref.Device) error { panic("boom") }}, nil
	}
	assert.ErrorIs(t, CheckRelease(closePanics), ErrPanic)

	cannotOpen := func() (backend.Device, error) { return nil, errInjected }
	assert.ErrorIs(t, CheckRelease(cannotOpen), errInjected)
}

func TestOpenOrSkipOpens(t *testing.T) {
	dev := OpenOrSkip(t, func() (backend.Device, error) { return ref.New(), nil })
	require.NotNil(t, dev)
	require.NoError(t, dev.Close())
}

func TestReportFormatShowsFailures(t *testing.T) {
	rep := Report{Results: []Result{
		{Kernel: backend.KGemm, Case: "a", Pass: true, MaxAbsErr: 1e-6, Elements: 4},
		{Kernel: backend.KGemm, Case: "b", Pass: false, MaxAbsErr: 0.5, Elements: 4, Mismatches: 1,
			Worst: Element{Buffer: 2, Index: 3, Ref: 1, Got: 1.5}, Tol: Tolerance{Atol: 1e-4}},
		{Kernel: backend.KFill, Case: "c", Pass: false, Err: errInjected},
	}}
	assert.True(t, rep.Failed())
	s := rep.Summary()
	require.Len(t, s, 2)
	assert.Equal(t, 2, s[0].Checks)
	assert.Equal(t, 1, s[0].Failed)
	assert.Equal(t, 0.5, s[0].MaxAbsErr)
	assert.Equal(t, "b", s[0].WorstCase)
	var buf bytes.Buffer
	require.NoError(t, rep.Format(&buf))
	out := buf.String()
	assert.Contains(t, out, "FAIL gemm/b")
	assert.Contains(t, out, "buffer 2[3]: got 1.5, ref 1")
	assert.Contains(t, out, "FAIL fill/c: error: injected failure")
	assert.Contains(t, out, "2 of 3 checks failed")
}
