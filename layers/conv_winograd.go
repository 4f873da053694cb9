package layers

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// Winograder is a layer whose input products (the forward output y and the
// input gradient dx) can run either as its default kernel or as Winograd
// F(2x2,3x3) (see backend.WinogradConv); the planner chooses per pass and
// says so in Ctx.Winograd.
type Winograder interface {
	Layer
	// WinogradPlan plans the forward pass, or with backwardData the input
	// gradient, at input shape in as Winograd F(2x2,3x3), or says why the
	// layer does not admit it.
	WinogradPlan(in Shape, backwardData bool) (backend.WinogradPlan, error)
	// Product lists the dispatches of the forward output (bias included)
	// or, with backwardData, of c.DX alone, by Winograd when c.Winograd.
	Product(c *Ctx, backwardData bool) []Dispatch
}

// WinogradPlan implements Winograder: 3x3 stride-1 layers only (and, for
// the input gradient, a padding of at most 2).
func (l *Conv2d) WinogradPlan(in Shape, backwardData bool) (backend.WinogradPlan, error) {
	if l.K != 3 || l.Stride != 1 {
		return backend.WinogradPlan{}, fmt.Errorf("%dx%d stride %d: Winograd F(2x2,3x3) takes 3x3 stride 1 only", l.K, l.K, l.Stride)
	}
	if backwardData && l.Pad > 2 {
		return backend.WinogradPlan{}, fmt.Errorf("padding %d: the Winograd input gradient takes a padding of at most 2", l.Pad)
	}
	pl, ok := backend.WinogradConv(l.shape(in), backwardData)
	if !ok {
		return backend.WinogradPlan{}, fmt.Errorf("input %v: a Winograd buffer would exceed %d elements", []int(in), backend.MaxElements)
	}
	return pl, nil
}

// Product implements Winograder: Winograd's four dispatches over the
// scratch c.Scratch (U, V, M) when c.Winograd and the pass admits it, else
// conv2d_fwd(x, w, b, y) or conv2d_bwd_data(dy, w, dx).
func (l *Conv2d) Product(c *Ctx, backwardData bool) []Dispatch {
	if c.Winograd && len(c.Scratch) == 3 {
		if pl, err := l.WinogradPlan(c.In, backwardData); err == nil {
			u, v, m := c.Scratch[0], c.Scratch[1], c.Scratch[2]
			x, y := c.X, c.Y
			if backwardData {
				x, y = c.DY, c.DX
			}
			pl.Output.Relu = flag(c.FuseRelu)
			return []Dispatch{op(pl.Filter, c.W[0], u), maskRelu(c, op(pl.Input, x, v)), op(pl.Gemm, u, v, m), op(pl.Output, m, c.W[1], y)}
		}
	}
	g := l.shape(c.In)
	if backwardData {
		return []Dispatch{maskRelu(c, op(backend.Conv2DBwdData{Conv2DShape: g}, c.DY, c.W[0], c.DX))}
	}
	return []Dispatch{op(backend.Conv2DFwd{Conv2DShape: g, Relu: flag(c.FuseRelu)}, c.X, c.W[0], c.W[1], c.Y)}
}
