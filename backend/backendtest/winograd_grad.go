package backendtest

import (
	"errors"
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
)

// WinogradGradTolerance bounds how far a Winograd F(3x3,2x2) filter
// gradient (the four dispatches of backend.WinogradGrad, float32
// throughout) may stray from the reference backend's conv2d_bwd_filter
// (float64), per element of dw and db: |got-ref| <= Atol*s + Rtol*|ref|,
// s = sqrt(L/ToleranceUnit) for a reduction over L = N*OH*OW >
// ToleranceUnit terms (else 1), the bound of the direct conv2d_bwd_filter
// kernel.
// TestWinogradGradAccuracy (backend/ref) measures, at the reduction length
// of AlexNet's 3x3 layers' filter gradients (conv.6, conv.8, conv.10 at
// batch 16: 16 x 12x12 = 2304 terms, P = 576 tiles), a max relative error
// (max |err| over the RMS of dw) of 4.1e-6 for F(3x3,2x2) in float32,
// below a direct float32 sum's 6.5e-6 (the Gemm sums 576 products instead
// of 2304), and a db error of at most 5.7e-7 (direct: 1.7e-6): 0.004 of
// this tolerance at worst. F(3x3,2x2) is held to the direct kernel's bound.
var WinogradGradTolerance = Tolerance{Atol: 2e-4, Rtol: 1e-4}

// RunWinogradGrad runs the four dispatches of pl on dev: the input x
// (N*C*H*W) and the output gradient dy (N*K*OH*OW) are written to fresh
// buffers, V, E and M allocated as scratch, and the filter gradient dw
// (K*C*9) and bias gradient db (K) are read back. pl.Dy must not mask dy
// (it has no ReLU output to read). Every buffer it allocates is released.
func RunWinogradGrad(dev backend.Device, pl backend.WinogradGradPlan, x, dy []float32) (dw, db []float32, err error) {
	if pl.Dy.MaskRelu != 0 {
		return nil, nil, errors.New("winograd grad: MaskRelu needs the ReLU output y, which RunWinogradGrad does not take")
	}
	pp := &pipeline{dev: dev}
	defer pp.release()
	alloc := pp.alloc
	outSizes := pl.Output.BufferSizes()
	sizes := []int{pl.Input.BufferSizes()[0], pl.Dy.BufferSizes()[0], pl.VLen, pl.ELen, pl.MLen, outSizes[2], outSizes[3]}
	data := [][]float32{x, dy}
	var b [7]backend.Buffer
	for i, n := range sizes {
		var d []float32
		if i < len(data) {
			if d = data[i]; len(d) != n {
				return nil, nil, fmt.Errorf("winograd grad: buffer %d holds %d elements, the plan needs %d", i, len(d), n)
			}
		}
		if b[i], err = alloc(n, d); err != nil {
			return nil, nil, err
		}
	}
	xb, dyb, v, e, m, dwb, dbb := b[0], b[1], b[2], b[3], b[4], b[5], b[6]
	steps := []step{
		{pl.Input, []backend.Buffer{xb, v}},
		{pl.Dy, []backend.Buffer{dyb, e}},
		{pl.Gemm, []backend.Buffer{v, e, m}},
		{pl.Output, []backend.Buffer{m, e, dwb, dbb}},
	}
	if err := pp.run("winograd grad", steps); err != nil {
		return nil, nil, err
	}
	dw, db = make([]float32, outSizes[2]), make([]float32, outSizes[3])
	if err := dev.Read(dwb, 0, dw); err != nil {
		return nil, nil, fmt.Errorf("winograd grad: read dw: %w", err)
	}
	if err := dev.Read(dbb, 0, db); err != nil {
		return nil, nil, fmt.Errorf("winograd grad: read db: %w", err)
	}
	return dw, db, nil
}

// CheckWinogradGrad runs the F(3x3,2x2) pipeline of layer g on dev over
// the inputs of the suite's conv2d_bwd_filter case of g (seeded by the
// check's name) and compares dw and db with the reference backend's
// conv2d_bwd_filter within WinogradGradTolerance. The result is named
// after conv2d_bwd_filter, its case "winograd_bwd_filter_...".
func CheckWinogradGrad(dev backend.Device, g backend.Conv2DShape) (res Result) {
	pl, ok := backend.WinogradGrad(g)
	return checkWinogradGrad(dev, g, winogradGradName(g), pl, ok, "F(3x3,2x2)")
}

// CheckWinogradGrad4 is CheckWinogradGrad for F(3x3,4x4)
// (backend.WinogradGrad4; kernels over 3x3 as its 3x3 blocks), its case
// "winograd4_bwd_filter_...".
func CheckWinogradGrad4(dev backend.Device, g backend.Conv2DShape) (res Result) {
	pl, ok := backend.WinogradGrad4(g)
	return checkWinogradGrad(dev, g, winograd4Name(winogradGradName(g)), pl, ok, "F(3x3,4x4)")
}

// checkWinogradGrad checks plan pl (ok false: the layer does not admit
// algorithm alg) of layer g as CheckWinogradGrad says, as case name.
func checkWinogradGrad(dev backend.Device, g backend.Conv2DShape, name string, pl backend.WinogradGradPlan, ok bool, alg string) (res Result) {
	p := backend.Conv2DBwdFilter{Conv2DShape: g}
	c, err := TiledCase(name, p)
	res = Result{Kernel: p.Kernel(), Case: c.Name, Tol: scaledTolerance(WinogradGradTolerance, p)}
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
	got := make([][]float32, len(in))
	err = safely(func() error {
		var err error
		got[2], got[3], err = RunWinogradGrad(dev, pl, in[0], in[1])
		return err
	})
	if err != nil {
		res.Err = err
		return res
	}
	compare(&res, c, want, got)
	return res
}

// WinogradGradGeometries are the layers the filter-gradient pipeline
// checks run: paddings 0, 1, 2 (and 1x0) on odd planes (partial tiles),
// planes of one pixel, batch 1 and 3, channels that are not multiples of
// 4, a reduction over more than ToleranceUnit terms, the kernels over 3x3
// of WinogradGeometries, and last an
// AlexNet-width layer (384 -> 384 channels on 5x5 planes, batch 2) that
// `go test -short` skips (see WinogradGradLarge).
func WinogradGradGeometries() []backend.Conv2DShape {
	rect := backend.NewConv2DShape(3, 5, 8, 7, 6, 3, 3, 1, 1)
	rect.PadW, rect.OW = 0, 5
	gs := []backend.Conv2DShape{
		backend.NewConv2DShape(2, 3, 7, 9, 5, 3, 3, 1, 1),
		backend.NewConv2DShape(1, 5, 9, 7, 3, 3, 3, 1, 0),
		backend.NewConv2DShape(3, 3, 6, 5, 7, 3, 3, 1, 2),
		backend.NewConv2DShape(3, 5, 1, 1, 2, 3, 3, 1, 1),
		rect,
		backend.NewConv2DShape(1, 17, 11, 13, 9, 3, 3, 1, 1),
		backend.NewConv2DShape(3, 6, 19, 19, 10, 3, 3, 1, 1),
		backend.NewConv2DShape(3, 24, 3, 3, 20, 3, 3, 1, 1), // cpu-quick's 3x3 planes: one F(4x4,3x3) tile per image
	}
	gs = append(gs, largeKernelGeometries()...)
	return append(gs, backend.NewConv2DShape(2, 384, 5, 5, 384, 3, 3, 1, 1))
}

// WinogradGradLarge reports whether g is one of the AlexNet-width layers
// (more than 256*256 channel pairs) that `go test -short` skips.
func WinogradGradLarge(g backend.Conv2DShape) bool { return g.C*g.K > 256*256 }
