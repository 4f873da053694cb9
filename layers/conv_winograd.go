package layers

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// Winograder is a layer whose products (the forward output y, the input
// gradient dx and the parameter gradients) can run either as its default
// kernel or as Winograd, F(2x2,3x3) (see backend.WinogradConv) or for the
// parameter gradients F(3x3,2x2) (backend.WinogradGrad), a 5x5 kernel as
// F(2x2,5x5) and F(5x5,2x2), the other kernels over 3x3 as 3x3 blocks; the
// planner
// chooses per pass and says so in Ctx.Winograd and Ctx.WinogradGrad.
type Winograder interface {
	Layer
	// WinogradPlan plans the forward pass, or with backwardData the input
	// gradient, at input shape in as Winograd F(2x2,3x3), or says why the
	// layer does not admit it.
	WinogradPlan(in Shape, backwardData bool) (backend.WinogradPlan, error)
	// WinogradPlan4 is WinogradPlan as F(4x4,3x3) (kernels over 3x3 as
	// its 3x3 blocks).
	WinogradPlan4(in Shape, backwardData bool) (backend.WinogradPlan, error)
	// Product lists the dispatches of the forward output (bias included)
	// or, with backwardData, of c.DX alone, by Winograd when c.Winograd
	// (F(4x4,3x3) when c.Winograd4 too).
	Product(c *Ctx, backwardData bool) []Dispatch
	// WinogradGradPlan plans the filter and bias gradients at input shape
	// in as Winograd F(3x3,2x2), or says why the layer does not admit it.
	WinogradGradPlan(in Shape) (backend.WinogradGradPlan, error)
	// WinogradGradPlan4 is WinogradGradPlan as F(3x3,4x4).
	WinogradGradPlan4(in Shape) (backend.WinogradGradPlan, error)
	// FilterGrad lists the dispatches of the parameter gradients c.G, by
	// Winograd when c.WinogradGrad (F(3x3,4x4) when c.WinogradGrad4 too).
	FilterGrad(c *Ctx) []Dispatch
}

// WinogradPlan implements Winograder: the layers backend.WinogradRefusal
// admits (stride 1, kernels 3x3 to 6x6: 5x5 as F(2x2,5x5), the others over
// 3x3 as 3x3 blocks).
func (l *Conv2d) WinogradPlan(in Shape, backwardData bool) (backend.WinogradPlan, error) {
	return winogradPlanOf(l.shape(in), in, backwardData, backend.WinogradConv)
}

// WinogradPlan4 implements Winograder: the layers WinogradPlan admits,
// kernels over 3x3 (5x5 too) as F(4x4,3x3) 3x3 blocks.
func (l *Conv2d) WinogradPlan4(in Shape, backwardData bool) (backend.WinogradPlan, error) {
	return winogradPlanOf(l.shape(in), in, backwardData, backend.WinogradConv4)
}

// winogradPlanOf is plan's Winograd plan of layer g (at input shape in) or
// why the layer does not admit it.
func winogradPlanOf(g backend.Conv2DShape, in Shape, backwardData bool, plan func(backend.Conv2DShape, bool) (backend.WinogradPlan, bool)) (backend.WinogradPlan, error) {
	if err := backend.WinogradRefusal(g, backwardData); err != nil {
		return backend.WinogradPlan{}, err
	}
	pl, ok := plan(g, backwardData)
	if !ok {
		return backend.WinogradPlan{}, overElements(in)
	}
	return pl, nil
}

// overElements is the error of a layer at input shape in whose Winograd
// buffer would exceed backend.MaxElements.
func overElements(in Shape) error {
	return fmt.Errorf("input %v: a Winograd buffer would exceed %d elements", []int(in), backend.MaxElements)
}

// Product implements Winograder: Winograd's four dispatches over the
// scratch c.Scratch (U, V, M) when c.Winograd and the pass admits it
// (F(4x4,3x3)'s with c.Winograd4), else conv2d_fwd(x, w, b, y) or
// conv2d_bwd_data(dy, w, dx).
func (l *Conv2d) Product(c *Ctx, backwardData bool) []Dispatch {
	plan := l.WinogradPlan
	if c.Winograd4 {
		plan = l.WinogradPlan4
	}
	if c.Winograd && len(c.Scratch) == 3 {
		if pl, err := plan(c.In, backwardData); err == nil {
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

// WinogradGradPlan implements Winograder: the layers WinogradPlan admits.
func (l *Conv2d) WinogradGradPlan(in Shape) (backend.WinogradGradPlan, error) {
	return winogradGradPlanOf(l.shape(in), in, backend.WinogradGrad)
}

// WinogradGradPlan4 implements Winograder: the layers WinogradGradPlan
// admits.
func (l *Conv2d) WinogradGradPlan4(in Shape) (backend.WinogradGradPlan, error) {
	return winogradGradPlanOf(l.shape(in), in, backend.WinogradGrad4)
}

// winogradGradPlanOf is plan's filter-gradient plan of layer g (at input
// shape in) or why the layer does not admit it.
func winogradGradPlanOf(g backend.Conv2DShape, in Shape, plan func(backend.Conv2DShape) (backend.WinogradGradPlan, bool)) (backend.WinogradGradPlan, error) {
	if err := backend.WinogradRefusal(g, false); err != nil {
		return backend.WinogradGradPlan{}, err
	}
	pl, ok := plan(g)
	if !ok {
		return backend.WinogradGradPlan{}, overElements(in)
	}
	return pl, nil
}

// FilterGrad implements Winograder: Winograd F(3x3,2x2)'s four dispatches
// (F(3x3,4x4)'s with c.WinogradGrad4) over the scratch c.Scratch (V in
// Scratch[1], E in Scratch[2], M in Scratch[0]) when c.WinogradGrad and
// the layer admits it, else conv2d_bwd_filter(x, dy, dw, db).
func (l *Conv2d) FilterGrad(c *Ctx) []Dispatch {
	plan := l.WinogradGradPlan
	if c.WinogradGrad4 {
		plan = l.WinogradGradPlan4
	}
	if c.WinogradGrad && len(c.Scratch) == 3 {
		if pl, err := plan(c.In); err == nil {
			m, v, e := c.Scratch[0], c.Scratch[1], c.Scratch[2]
			return []Dispatch{op(pl.Input, c.X, v), maskRelu(c, op(pl.Dy, c.DY, e)), op(pl.Gemm, v, e, m),
				op(pl.Output, m, e, c.G[0], c.G[1])}
		}
	}
	return []Dispatch{maskRelu(c, op(backend.Conv2DBwdFilter{Conv2DShape: l.shape(c.In)}, c.X, c.DY, c.G[0], c.G[1]))}
}
