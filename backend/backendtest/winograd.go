package backendtest

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
)

// WinogradTolerance bounds how far a Winograd F(2x2,3x3) pipeline (the
// four dispatches of backend.WinogradConv, float32 throughout) may stray
// from the reference backend's direct convolution (float64), per output
// element: |got-ref| <= Atol*sqrt(L/ToleranceUnit) + Rtol*|ref| for a
// reduction over L = C*9 (forward) or K*9 (input gradient) terms when L >
// ToleranceUnit, the bound of the direct conv2d kernels. TestWinogradAccuracy
// (backend/ref) measures, at AlexNet's 256- and 384-channel 3x3 layers, a
// max relative error (max |err| over the output's RMS) of 2.1e-6 and
// 2.8e-6 for F(2x2,3x3) in float32, below a direct float32 sum's 5.1e-6
// and 8.3e-6 (the products are summed over C terms instead of 9*C) and
// 18x below F(4x4,3x3)'s 3.6e-5 and 5.2e-5: F(2x2) is what the backends
// implement, with the direct kernels' bound.
var WinogradTolerance = Tolerance{Atol: 1e-4, Rtol: 1e-4}

// RunWinograd runs the four dispatches of pl on dev: the weights w, the
// bias b (nil when pl.Output has no bias) and the input in (x, or dy for
// an input gradient) are written to fresh buffers, U, V and M allocated
// as scratch, and the result (y, or dx) is read back. Every buffer it
// allocates is released.
func RunWinograd(dev backend.Device, pl backend.WinogradPlan, w, b, in []float32) (out []float32, err error) {
	pp := &pipeline{dev: dev}
	defer pp.release()
	alloc := pp.alloc
	if pl.Output.Bias == 0 {
		b = []float32{0}
	}
	want := []int{pl.Filter.BufferSizes()[0], pl.Output.BufferSizes()[1], pl.Input.BufferSizes()[0]}
	host := make([]backend.Buffer, 3)
	for i, data := range [][]float32{w, b, in} {
		if len(data) != want[i] {
			return nil, fmt.Errorf("winograd: buffer %d holds %d elements, the plan needs %d", i, len(data), want[i])
		}
		if host[i], err = alloc(want[i], data); err != nil {
			return nil, err
		}
	}
	var scratch [4]backend.Buffer
	for i, n := range []int{pl.ULen, pl.VLen, pl.MLen, pl.Output.BufferSizes()[2]} {
		if scratch[i], err = alloc(n, nil); err != nil {
			return nil, err
		}
	}
	u, v, m, y := scratch[0], scratch[1], scratch[2], scratch[3]
	steps := []step{
		{pl.Filter, []backend.Buffer{host[0], u}},
		{pl.Input, []backend.Buffer{host[2], v}},
		{pl.Gemm, []backend.Buffer{u, v, m}},
		{pl.Output, []backend.Buffer{m, host[1], y}},
	}
	if err := pp.run("winograd", steps); err != nil {
		return nil, err
	}
	out = make([]float32, pl.Output.BufferSizes()[2])
	if err := dev.Read(y, 0, out); err != nil {
		return nil, fmt.Errorf("winograd: read the result: %w", err)
	}
	return out, nil
}

// CheckWinograd runs the Winograd pipeline of layer g (the forward pass
// with bias, or with backwardData the input gradient) on dev over the
// inputs of the suite's convolution case of g (seeded by the check's
// name) and compares its result with the reference backend's conv2d_fwd
// or conv2d_bwd_data within WinogradTolerance. The result is named after
// the convolution kernel, its case "winograd_fwd_..." or
// "winograd_bwd_data_...".
func CheckWinograd(dev backend.Device, g backend.Conv2DShape, backwardData bool) (res Result) {
	pl, ok := backend.WinogradConv(g, backwardData)
	return checkWinograd(dev, g, backwardData, winogradName(g, backwardData), pl, ok, "F(2x2,3x3)")
}

// CheckWinograd4 is CheckWinograd for F(4x4,3x3) (backend.WinogradConv4;
// kernels over 3x3 as its 3x3 blocks), its case "winograd4_fwd_..." or
// "winograd4_bwd_data_...".
func CheckWinograd4(dev backend.Device, g backend.Conv2DShape, backwardData bool) (res Result) {
	pl, ok := backend.WinogradConv4(g, backwardData)
	return checkWinograd(dev, g, backwardData, winograd4Name(winogradName(g, backwardData)), pl, ok, "F(4x4,3x3)")
}

// winograd4Name is the F(4x4,3x3) check's name of the F(2x2,3x3) check
// named name: "winograd4_..." for "winograd_...".
func winograd4Name(name string) string { return "winograd4" + strings.TrimPrefix(name, "winograd") }

// checkWinograd checks plan pl (ok false: the layer does not admit
// algorithm alg) of layer g as CheckWinograd says, as case name.
func checkWinograd(dev backend.Device, g backend.Conv2DShape, backwardData bool, name string, pl backend.WinogradPlan, ok bool, alg string) (res Result) {
	var p backend.Params = backend.Conv2DFwd{Conv2DShape: g}
	if backwardData {
		p = backend.Conv2DBwdData{Conv2DShape: g}
	}
	c, err := TiledCase(name, p)
	res = Result{Kernel: p.Kernel(), Case: c.Name, Tol: scaledTolerance(WinogradTolerance, p)}
	if err != nil {
		res.Err = err
		return res
	}
	if !ok {
		res.Err = fmt.Errorf("the layer does not admit Winograd %s", alg)
		return res
	}
	in := c.Inputs()
	r := ref.New()
	defer r.Close()
	want, err := execute(r, c, in)
	if err != nil {
		res.Err = fmt.Errorf("reference device: %w", err)
		return res
	}
	var y []float32
	err = safely(func() error {
		var b []float32
		if !backwardData {
			b = in[2]
		}
		var err error
		y, err = RunWinograd(dev, pl, in[1], b, in[0])
		return err
	})
	if err != nil {
		res.Err = err
		return res
	}
	got := make([][]float32, len(in))
	got[c.Outputs()[0]] = y
	compare(&res, c, want, got)
	return res
}

// scaledTolerance is t with Atol scaled for the reduction of convolution
// p (WinogradTolerance, WinogradGradTolerance).
func scaledTolerance(t Tolerance, p backend.Params) Tolerance {
	if l := ReductionLength(p); l > ToleranceUnit {
		t.Atol *= math.Sqrt(float64(l) / ToleranceUnit)
	}
	return t
}

// WinogradGeometries are the layers the pipeline checks run: paddings 0,
// 1 and 2 (and 1x0) on odd and even planes, planes of one pixel, batch 1,
// AlexNet's 3x3 layers with their real channels on scaled-down planes
// (conv.6: 256 -> 384, conv.10: 384 -> 256), and kernels over 3x3 as 3x3
// blocks: 5x5 (AlexNet's conv.3, 96 -> 256, on a 6x6 plane), 4x6 and 6x4.
func WinogradGeometries() []backend.Conv2DShape {
	rect := backend.NewConv2DShape(2, 3, 8, 7, 4, 3, 3, 1, 1)
	rect.PadW, rect.OW = 0, 5
	return append([]backend.Conv2DShape{
		backend.NewConv2DShape(2, 3, 7, 9, 5, 3, 3, 1, 1),
		backend.NewConv2DShape(1, 4, 5, 7, 3, 3, 3, 1, 0),
		backend.NewConv2DShape(2, 3, 6, 5, 4, 3, 3, 1, 2),
		backend.NewConv2DShape(3, 5, 1, 1, 2, 3, 3, 1, 1),
		rect,
		backend.NewConv2DShape(1, 17, 11, 13, 9, 3, 3, 1, 1),
		backend.NewConv2DShape(2, 256, 6, 6, 384, 3, 3, 1, 1),
		backend.NewConv2DShape(1, 384, 5, 5, 256, 3, 3, 1, 1),
		// cpu-quick's conv.8 (3x3 planes: one F(4x4,3x3) tile per image)
		// and a 13x13 plane (partial 4x4 tiles).
		backend.NewConv2DShape(3, 192, 3, 3, 96, 3, 3, 1, 1),
		backend.NewConv2DShape(1, 7, 13, 13, 5, 3, 3, 1, 1),
	}, largeKernelGeometries()...)
}

// largeKernelGeometries are the pipeline checks' layers of kernels over
// 3x3: 5x5 at paddings 0 and 2 (odd planes, partial tiles), 4x6 and 6x4
// with unequal paddings, and AlexNet's conv.3 (96 -> 256 channels) on a
// 6x6 plane.
func largeKernelGeometries() []backend.Conv2DShape {
	rect := func(n, c, h, w, k, r, s, ph, pw int) backend.Conv2DShape {
		return backend.Conv2DShape{N: uint32(n), C: uint32(c), H: uint32(h), W: uint32(w), K: uint32(k), R: uint32(r),
			S: uint32(s), StrideH: 1, StrideW: 1, PadH: uint32(ph), PadW: uint32(pw),
			OH: uint32(h + 2*ph - r + 1), OW: uint32(w + 2*pw - s + 1)}
	}
	return []backend.Conv2DShape{
		backend.NewConv2DShape(2, 3, 7, 9, 5, 5, 5, 1, 2),
		backend.NewConv2DShape(1, 4, 6, 7, 3, 5, 5, 1, 0),
		rect(2, 3, 8, 7, 4, 4, 6, 1, 2),
		rect(1, 5, 9, 6, 3, 6, 4, 3, 0),
		backend.NewConv2DShape(1, 96, 6, 6, 256, 5, 5, 1, 2),
	}
}

// RunWinogradTest runs CheckWinograd on the device open returns (skipping
// when its driver is absent) over WinogradGeometries, forward and input
// gradient, and CheckWinogradGrad over WinogradGradGeometries (the
// WinogradGradLarge ones skipped with `go test -short`), one subtest each.
func RunWinogradTest(t *testing.T, open func() (backend.Device, error)) {
	dev := OpenOrSkip(t, open)
	defer func() {
		if err := dev.Close(); err != nil {
			t.Error(err)
		}
	}()
	for _, g := range WinogradGeometries() {
		for _, bwd := range []bool{false, true} {
			checks := []func(backend.Device, backend.Conv2DShape, bool) Result{CheckWinograd, CheckWinograd4}
			for i, check := range checks {
				name := winogradName(g, bwd)
				if i == 1 {
					name = winograd4Name(name)
				}
				t.Run(name, func(t *testing.T) {
					res := check(dev, g, bwd)
					if res.Err != nil {
						t.Fatal(res.Err)
					}
					if !res.Pass {
						t.Fatal(res.Detail())
					}
					t.Logf("max |err| %.3g, worst at %.2f of the tolerance", res.MaxAbsErr, res.Ratio)
				})
			}
		}
	}
	for _, g := range WinogradGradGeometries() {
		checks := []func(backend.Device, backend.Conv2DShape) Result{CheckWinogradGrad, CheckWinogradGrad4}
		for i, check := range checks {
			name := winogradGradName(g)
			if i == 1 {
				name = winograd4Name(name)
			}
			t.Run(name, func(t *testing.T) {
				if testing.Short() && WinogradGradLarge(g) {
					t.Skip("AlexNet-width layer skipped in -short mode")
				}
				res := check(dev, g)
				require.NoError(t, res.Err)
				require.True(t, res.Pass, res.Detail())
				t.Logf("max |err| %.3g, worst at %.2f of the tolerance", res.MaxAbsErr, res.Ratio)
			})
		}
	}
}
