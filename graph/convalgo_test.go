package graph_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/crossgrad/crossgrad/alexnet"
	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/crossgrad/crossgrad/layers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "github.com/crossgrad/crossgrad/backend/vulkan"
)

// alexNet97 is the tiny AlexNet at input 97: conv.6, conv.8 and conv.10
// (3x3 stride 1) work on 5x5 maps, 3x3 Winograd tiles per image, the last
// ones partial.
func alexNet97(t *testing.T) *alexnet.Model {
	t.Helper()
	o := alexnet.DefaultOptions()
	o.InputSize, o.Width, o.Dropout, o.Seed = 97, 1.0/16, 0, 1234
	m, err := alexnet.New(o)
	require.NoError(t, err)
	return m
}

// Tolerance of conv_algo winograd against gemm after winogradSteps SGD
// steps (lr 0.05) of alexNet97: F(2x2,3x3) rounds differently from the
// direct sum (its transforms add up to 4 inputs before the product), so
// parameters agree to |d| <= 1e-6 + 1e-5*|p| (seen: 7.5e-9 on ref, PoCL and lavapipe) and the last step's gradients
// to |d| <= 1e-3 * max|g of that tensor|.
const (
	winogradSteps     = 3
	winogradParamAtol = 1e-6
	winogradParamRtol = 1e-5
	winogradGradScale = 1e-3
)

// TestConvAlgoWinogradTrainsLikeGemm trains alexNet97 a few steps with
// conv_algo winograd and with gemm on each backend: the 3x3 stride-1
// passes run the Winograd kernels, the 11x11 and 5x5 ones implicit GEMM,
// and parameters and gradients agree within the tolerance above.
func TestConvAlgoWinogradTrainsLikeGemm(t *testing.T) {
	for _, name := range []string{"ref", "opencl", "vulkan"} {
		t.Run(name, func(t *testing.T) {
			var dev backend.Device
			if name == "ref" {
				dev = ref.New()
			} else {
				dev = backendtest.OpenOrSkip(t, func() (backend.Device, error) { return backend.Open(name) })
			}
			defer dev.Close()
			m := alexNet97(t)
			run := func(algo string) ([]graph.HostTensor, []graph.HostTensor, *graph.Plan) {
				plan, err := graph.New(dev, m.Sequential, m.InputShape(3), graph.Config{Seed: 5, ConvAlgo: algo, Optimizer: sgd{LR: 0.05}})
				require.NoError(t, err)
				t.Cleanup(func() { plan.Close() })
				r := testutil.NewRNG(8)
				for s := 1; s <= winogradSteps; s++ {
					img, lab := randomBatch(r, 3)
					require.NoError(t, plan.Upload(img, lab))
					_, err := plan.TrainStep(s, 3)
					require.NoError(t, err)
				}
				params, err := plan.ReadParams()
				require.NoError(t, err)
				grads, err := plan.ReadTensors(plan.Grads())
				require.NoError(t, err)
				return params, grads, plan
			}
			wp, wg, wplan := run(graph.ConvWinograd)
			gp, gg, gplan := run(graph.ConvGemm)
			assert.Equal(t, []string{"conv.0 forward gemm", "conv.0 backward-filter gemm", "conv.3 forward winograd",
				"conv.3 backward-data winograd", "conv.3 backward-filter winograd", "conv.6 forward winograd",
				"conv.6 backward-data winograd", "conv.6 backward-filter winograd", "conv.8 forward winograd",
				"conv.8 backward-data winograd", "conv.8 backward-filter winograd", "conv.10 forward winograd",
				"conv.10 backward-data winograd", "conv.10 backward-filter winograd"}, algos(wplan))
			assert.Equal(t, 1, kernelCount(t, gplan, backend.KConv2DFwd, "conv.6"))
			assert.Zero(t, kernelCount(t, gplan, backend.KWinogradInput, ""))
			assert.Equal(t, 3, kernelCount(t, wplan, backend.KWinogradInput, "conv.6"), "forward, backward-data and backward-filter")
			assert.Equal(t, 1, kernelCount(t, wplan, backend.KWinogradDw, "conv.6"))
			assert.Zero(t, kernelCount(t, wplan, backend.KConv2DFwd, "conv.6"))
			assert.Zero(t, kernelCount(t, wplan, backend.KConv2DBwdData, "conv.6"))
			assert.Zero(t, kernelCount(t, wplan, backend.KConv2DBwdFilter, "conv.6"))
			assert.Equal(t, 3, kernelCount(t, wplan, backend.KWinogradInput, "conv.3"), "5x5: one F(2x2,5x5) input transform per pass")
			assert.Zero(t, kernelCount(t, wplan, backend.KConv2DBwdFilter, "conv.3"))
			assert.Equal(t, 1, kernelCount(t, wplan, backend.KConv2DBwdFilter, "conv.0"), "11x11 stride 4: implicit GEMM")
			worst := 0.0
			for i := range gp {
				for j, want := range gp[i].Data {
					got := float64(wp[i].Data[j])
					d := math.Abs(got - float64(want))
					require.LessOrEqual(t, d, winogradParamAtol+winogradParamRtol*math.Abs(float64(want)), "%s[%d]", gp[i].Name, j)
					worst = max(worst, d)
				}
				scale := 0.0
				for _, v := range gg[i].Data {
					scale = max(scale, math.Abs(float64(v)))
				}
				for j, want := range gg[i].Data {
					require.InDelta(t, want, wg[i].Data[j], winogradGradScale*scale, "%s.grad[%d]", gg[i].Name, j)
				}
			}
			assert.NotEqual(t, gp, wp, "Winograd rounds differently: the test compares two computations")
			t.Logf("%s: largest parameter difference after %d steps %.3g", dev.Info().Name, winogradSteps, worst)
		})
	}
}

func algos(p *graph.Plan) []string {
	var out []string
	for _, c := range p.ConvAlgos() {
		out = append(out, c.Name+" "+c.Pass+" "+c.Algo)
	}
	return out
}

// kernelCount counts the dispatches of kernel k in a training step of
// plan, of layer layer ("" any).
func kernelCount(t *testing.T, plan *graph.Plan, k backend.Kernel, layer string) int {
	t.Helper()
	parts, err := plan.TrainStepParts(1, plan.Batch())
	require.NoError(t, err)
	n := 0
	for _, p := range parts {
		for _, d := range p.Dispatches {
			if d.P.Kernel() == k && (layer == "" || p.Layer == layer) {
				n++
			}
		}
	}
	return n
}

// TestConvAlgoWinogradOnStride4 forces winograd on the AlexNet whose conv.0
// is 11x11 stride 4 and conv.3 5x5: conv.0 uses implicit GEMM, and the
// one note names it once with the reason; conv.3 runs as F(2x2,5x5),
// under auto too. A 4x4 kernel (3x3 blocks) stays on implicit GEMM under
// auto, its Winograd scratch planned only when the tuner will choose
// (TunedAlgos).
func TestConvAlgoWinogradOnStride4(t *testing.T) {
	m := alexNet97(t)
	lo, err := graph.NewLayout(m.Sequential, m.InputShape(4), graph.Config{ConvAlgo: graph.ConvWinograd})
	require.NoError(t, err)
	note := lo.ConvNote()
	assert.Equal(t, "conv_algo winograd: implicit GEMM for conv.0 (11x11 stride 4: Winograd takes kernels 3x3 to 6x6 at stride 1 only)", note)
	assert.Equal(t, 1, strings.Count(note, "conv.0"), "said once for the two passes of conv.0")
	cs := lo.ConvAlgos()
	require.Len(t, cs, 14)
	assert.Equal(t, graph.ConvPass{Layer: 0, Name: "conv.0", Pass: graph.PassForward, Algo: graph.ConvGemm,
		Reason: "no Winograd: 11x11 stride 4: Winograd takes kernels 3x3 to 6x6 at stride 1 only"}.String(), cs[0].String())
	assert.False(t, cs[0].Winograd)
	assert.Equal(t, "conv.3 forward winograd (conv_algo winograd)", cs[2].String())
	assert.Equal(t, "conv.6 forward winograd (conv_algo winograd)", cs[5].String())
	assert.Equal(t, "conv.0 backward-filter gemm (no Winograd: 11x11 stride 4: Winograd takes kernels 3x3 to 6x6 at stride 1 only)", cs[1].String())
	assert.Equal(t, "conv.6 backward-filter winograd (conv_algo winograd)", cs[7].String())

	auto, err := graph.NewLayout(m.Sequential, m.InputShape(4), graph.Config{})
	require.NoError(t, err)
	assert.Empty(t, auto.ConvNote(), "auto says nothing about layers that never admit Winograd")
	assert.Equal(t, "conv.6 forward winograd (rule: Winograd for 3x3 stride 1)", auto.ConvAlgos()[5].String())
	for _, c := range auto.ConvAlgos()[2:5] {
		assert.Equal(t, graph.ConvWinograd, c.Algo, c.String())
		assert.True(t, c.Winograd)
		assert.Equal(t, "rule: Winograd F(2x2,5x5) for 5x5 stride 1", c.Reason, "5x5 is one F(2x2,5x5) block")
	}
	assert.Equal(t, lo.ScratchBytes(), auto.ScratchBytes())

	// A 4x4 kernel runs as four 3x3 blocks: implicit GEMM by the rule,
	// Winograd only where the tuner times it faster.
	blocks := layers.NewSequential().Add("conv", layers.NewConv2d(1, 8, 4, 1, 1), layers.NewReLU()).
		Add("", layers.NewFlatten()).Add("fc", layers.NewLinear(8*8*8, 3))
	in := layers.Shape{4, 1, 9, 9}
	off, err := graph.NewLayout(blocks, in, graph.Config{})
	require.NoError(t, err)
	for _, c := range off.ConvAlgos() {
		assert.Equal(t, graph.ConvGemm, c.Algo, c.String())
		assert.False(t, c.Winograd, "tune off: no scratch for the 4x4 layer")
		assert.Equal(t, "rule: implicit GEMM for kernels over 3x3 run as 3x3 blocks (tune off)", c.Reason)
	}
	tuned, err := graph.NewLayout(blocks, in, graph.Config{TunedAlgos: true})
	require.NoError(t, err)
	for _, c := range tuned.ConvAlgos() {
		assert.Equal(t, graph.ConvGemm, c.Algo, c.String())
		assert.True(t, c.Winograd, "the tuner may switch the 4x4 layer")
		assert.Equal(t, "rule: implicit GEMM for kernels over 3x3 run as 3x3 blocks; the tuner times both", c.Reason)
	}
	assert.Greater(t, tuned.ScratchBytes(), off.ScratchBytes())
}

// TestConvAlgoUnknown rejects a value by name.
func TestConvAlgoUnknown(t *testing.T) {
	m := alexNet97(t)
	_, err := graph.NewLayout(m.Sequential, m.InputShape(4), graph.Config{ConvAlgo: "fft"})
	require.EqualError(t, err, `graph: conv_algo: unknown value "fft" (want auto, gemm or winograd)`)
	for _, s := range []string{"", "auto", "gemm", "winograd"} {
		_, err := graph.ParseConvAlgo(s)
		assert.NoError(t, err, s)
	}
}

// TestConvAlgoScratch: gemm plans no scratch; winograd one set of U, V, M
// shared by every pass, each the largest any pass needs; the reference
// device keeps implicit GEMM under auto (no scratch), any other device
// takes Winograd.
func TestConvAlgoScratch(t *testing.T) {
	m := alexNet97(t)
	in := m.InputShape(4)
	g, err := graph.NewLayout(m.Sequential, in, graph.Config{ConvAlgo: graph.ConvGemm})
	require.NoError(t, err)
	assert.Empty(t, names(g, graph.KindScratch))
	assert.Zero(t, g.ScratchBytes())
	w, err := graph.NewLayout(m.Sequential, in, graph.Config{ConvAlgo: graph.ConvWinograd})
	require.NoError(t, err)
	assert.Equal(t, []string{"winograd.U", "winograd.V", "winograd.M"}, names(w, graph.KindScratch))
	var want [3]int
	for i, l := range m.Layers() {
		wl, ok := l.(layers.Winograder)
		if !ok {
			continue
		}
		for _, bwd := range []bool{false, true} {
			if pl, err := wl.WinogradPlan(w.Shapes[i], bwd); err == nil {
				want = [3]int{max(want[0], pl.ULen), max(want[1], pl.VLen), max(want[2], pl.MLen)}
			}
		}
		if pl, err := wl.WinogradGradPlan(w.Shapes[i]); err == nil {
			want = [3]int{max(want[0], pl.MLen), max(want[1], pl.VLen), max(want[2], pl.ELen)}
		}
	}
	for j, name := range []string{"winograd.U", "winograd.V", "winograd.M"} {
		b, ok := w.Lookup(name)
		require.True(t, ok)
		assert.Equal(t, want[j], b.Elems, name)
	}
	assert.Equal(t, uint64(4*(want[0]+want[1]+want[2])), w.ScratchBytes())
	var rep strings.Builder
	require.NoError(t, w.Report(&rep))
	assert.Contains(t, rep.String(), "total scratch")

	r, err := graph.NewLayoutFor(m.Sequential, in, graph.Config{}, ref.New().Info())
	require.NoError(t, err)
	assert.Zero(t, r.ScratchBytes())
	assert.Equal(t, "conv.6 forward gemm (rule: implicit GEMM on the reference device)", r.ConvAlgos()[5].String())
	cpu, err := graph.NewLayoutFor(m.Sequential, in, graph.Config{}, backend.Info{Name: "cpu0", Type: backend.CPUDevice})
	require.NoError(t, err)
	assert.Equal(t, w.ScratchBytes(), cpu.ScratchBytes(), "tune off plans no F(4x4,3x3) scratch")
	for _, c := range cpu.ConvAlgos() {
		assert.False(t, c.Winograd4, c.String())
	}
	tuned, err := graph.NewLayoutFor(m.Sequential, in, graph.Config{TunedAlgos: true}, backend.Info{Name: "cpu0", Type: backend.CPUDevice})
	require.NoError(t, err)
	want4 := want
	for i, l := range m.Layers() {
		if wl, ok := l.(layers.Winograder); ok {
			for _, bwd := range []bool{false, true} {
				if pl, err := wl.WinogradPlan4(w.Shapes[i], bwd); err == nil {
					want4 = [3]int{max(want4[0], pl.ULen), max(want4[1], pl.VLen), max(want4[2], pl.MLen)}
				}
			}
			if pl, err := wl.WinogradGradPlan4(w.Shapes[i]); err == nil {
				want4 = [3]int{max(want4[0], pl.MLen), max(want4[1], pl.VLen), max(want4[2], pl.ELen)}
			}
		}
	}
	assert.Equal(t, uint64(4*(want4[0]+want4[1]+want4[2])), tuned.ScratchBytes())
	n4 := 0
	for _, c := range tuned.ConvAlgos() {
		assert.Equal(t, c.Winograd, c.Winograd4, "every pass that admits Winograd admits F(4x4,3x3) (blocks over 3x3): %s", c)
		if c.Winograd4 {
			n4++
		}
	}
	assert.Positive(t, n4, "the stride-1 layers' passes admit F(4x4,3x3) (F(3x3,4x4))")
}

// TestConvAlgoBindingLimit: a pass whose Winograd buffers exceed what one
// dispatch of the device may address (Vulkan's maxStorageBufferRange) uses
// implicit GEMM, and the note says which pass and why; a smaller batch
// fits and runs Winograd.
func TestConvAlgoBindingLimit(t *testing.T) {
	m := alexNet97(t)
	small, err := graph.NewLayout(m.Sequential, m.InputShape(2), graph.Config{})
	require.NoError(t, err)
	limit := small.ScratchBytes() // more than any one buffer at batch 2
	info := backend.Info{Name: "small-range", Type: backend.IntegratedGPU, MaxBinding: limit}
	lo, err := graph.NewLayoutFor(m.Sequential, m.InputShape(64), graph.Config{}, info)
	require.NoError(t, err)
	note := lo.ConvNote()
	require.NotEmpty(t, note)
	assert.True(t, strings.HasPrefix(note, "conv_algo auto: implicit GEMM for conv.3 forward (its "), note)
	assert.Contains(t, note, fmt.Sprintf("exceeds the %s one dispatch of small-range may address", graph.MiB(limit)))
	for _, c := range lo.ConvAlgos() {
		assert.Equal(t, graph.ConvGemm, c.Algo, c.String())
	}
	assert.Zero(t, lo.ScratchBytes())
	ok, err := graph.NewLayoutFor(m.Sequential, m.InputShape(2), graph.Config{}, info)
	require.NoError(t, err)
	assert.Empty(t, ok.ConvNote())
	assert.Equal(t, graph.ConvWinograd, ok.ConvAlgos()[5].Algo)
}

// TestSetConvAlgo switches a pass between the algorithms (the tuner's
// choice) and refuses what the plan cannot run.
func TestSetConvAlgo(t *testing.T) {
	m := alexNet97(t)
	dev := ref.New()
	defer dev.Close()
	plan, err := graph.New(dev, m.Sequential, m.InputShape(2), graph.Config{ConvAlgo: graph.ConvWinograd})
	require.NoError(t, err)
	defer plan.Close()
	require.NoError(t, plan.SetConvAlgo(5, graph.ConvGemm, "tuned: faster"))
	assert.Equal(t, "conv.6 forward gemm (tuned: faster)", plan.ConvAlgos()[5].String())
	assert.Equal(t, 1, kernelCount(t, plan, backend.KConv2DFwd, "conv.6"))
	assert.Equal(t, "conv.6 forward winograd (conv_algo winograd)", plan.Layout().ConvAlgos()[5].String(), "the layout keeps the plan's start")
	require.NoError(t, plan.SetConvAlgo(7, graph.ConvGemm, "tuned: faster"))
	assert.Equal(t, 1, kernelCount(t, plan, backend.KConv2DBwdFilter, "conv.6"))
	assert.Zero(t, kernelCount(t, plan, backend.KWinogradDw, "conv.6"))
	require.ErrorContains(t, plan.SetConvAlgo(0, graph.ConvWinograd, ""), "conv.0 forward cannot run as Winograd in this plan (no Winograd: 11x11 stride 4")
	require.ErrorContains(t, plan.SetConvAlgo(5, "fft", ""), `unknown algorithm "fft"`)
	require.ErrorContains(t, plan.SetConvAlgo(14, graph.ConvGemm, ""), "no convolution pass 14 (the plan has 14)")
	kernels := func(k int, algo string) []backend.Kernel {
		ds, err := plan.ConvDispatches(k, algo)
		require.NoError(t, err)
		var ks []backend.Kernel
		for _, d := range ds {
			ks = append(ks, d.P.Kernel())
		}
		return ks
	}
	assert.Equal(t, []backend.Kernel{backend.KWinogradFilter, backend.KWinogradInput, backend.KGemm, backend.KWinogradOutput}, kernels(6, graph.ConvWinograd))
	assert.Equal(t, []backend.Kernel{backend.KWinogradInput, backend.KWinogradDy, backend.KGemm, backend.KWinogradDw}, kernels(7, graph.ConvWinograd))
	assert.Equal(t, []backend.Kernel{backend.KConv2DBwdFilter}, kernels(7, graph.ConvGemm))
}
