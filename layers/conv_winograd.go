package layers

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// Winograder is a layer whose products (the forward output y, the input
// gradient dx and the parameter gradients) can run either as its default
// kernel or as Winograd, F(2x2,3x3) (see backend.WinogradConv) or for the
// parameter gradients F(3x3,2x2) (backend.WinogradGrad), a kernel over 3x3
// as 3x3 blocks; the planner
// chooses per pass and says so in Ctx.Winograd and Ctx.WinogradGrad.
type Winograder interface {
	Layer
	// WinogradPlan plans the forward pass, or with backwardData the input
	// gradient, at input shape in as Winograd F(2x2,3x3), or says why the
	// layer does not admit it.
	WinogradPlan(in Shape, backwardData bool) (backend.WinogradPlan, error)
	// Product lists the dispatches of the forward output (bias included)
	// or, with backwardData, of c.DX alone, by Winograd when c.Winograd.
	Product(c *Ctx, backwardData bool) []Dispatch
	// WinogradGradPlan plans the filter and bias gradients at input shape
	// in as Winograd F(3x3,2x2), or says why the layer does not admit it.
	WinogradGradPlan(in Shape) (backend.WinogradGradPlan, error)
	// FilterGrad lists the dispatches of the parameter gradients c.G, by
	// Winograd when c.WinogradGrad.
	FilterGrad(c *Ctx) []Dispatch
}

// WinogradPlan implements Winograder: stride-1 layers of kernel side 3 to
// backend.WinogradMaxKernel (a kernel over 3x3 as 3x3 blocks; for the
// input gradient, a padding of at most the side less 1).
func (l *Conv2d) WinogradPlan(in Shape, backwardData bool) (backend.WinogradPlan, error) {
	if err := l.winogradAdmits(); err != nil {
		return backend.WinogradPlan{}, err
	}
	if backwardData && l.Pad > l.K-1 {
		return backend.WinogradPlan{}, fmt.Errorf("padding %d: the Winograd input gradient of a %dx%d kernel takes a padding of at most %d",
			l.Pad, l.K, l.K, l.K-1)
	}
	pl, ok := backend.WinogradConv(l.shape(in), backwardData)
	if !ok {
		return backend.WinogradPlan{}, fmt.Errorf("input %v: a Winograd buffer would exceed %d elements", []int(in), backend.MaxElements)
	}
	return pl, nil
}

// winogradAdmits says why l's kernel or stride does not admit Winograd.
func (l *Conv2d) winogradAdmits() error {
	if l.K < 3 || l.K > backend.WinogradMaxKernel || l.Stride != 1 {
		return fmt.Errorf("%dx%d stride %d: Winograd takes kernels 3x3 to %dx%d at stride 1 only", l.K, l.K, l.Stride,
			backend.WinogradMaxKernel, backend.WinogradMaxKernel)
	}
	return nil
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

// WinogradGradPlan implements Winograder: the layers WinogradPlan admits.
func (l *Conv2d) WinogradGradPlan(in Shape) (backend.WinogradGradPlan, error) {
	if err := l.winogradAdmits(); err != nil {
		return backend.WinogradGradPlan{}, err
	}
	pl, ok := backend.WinogradGrad(l.shape(in))
	if !ok {
		return backend.WinogradGradPlan{}, fmt.Errorf("input %v: a Winograd buffer would exceed %d elements", []int(in), backend.MaxElements)
	}
	return pl, nil
}

// FilterGrad implements Winograder: Winograd F(3x3,2x2)'s four dispatches
// over the scratch c.Scratch (V in Scratch[1], E in Scratch[2], M in
// Scratch[0]) when c.WinogradGrad and the layer admits it, else
// conv2d_bwd_filter(x, dy, dw, db).
func (l *Conv2d) FilterGrad(c *Ctx) []Dispatch {
	if c.WinogradGrad && len(c.Scratch) == 3 {
		if pl, err := l.WinogradGradPlan(c.In); err == nil {
			m, v, e := c.Scratch[0], c.Scratch[1], c.Scratch[2]
			return []Dispatch{op(pl.Input, c.X, v), maskRelu(c, op(pl.Dy, c.DY, e)), op(pl.Gemm, v, e, m),
				op(pl.Output, m, e, c.G[0], c.G[1])}
		}
	}
	return []Dispatch{maskRelu(c, op(backend.Conv2DBwdFilter{Conv2DShape: l.shape(c.In)}, c.X, c.DY, c.G[0], c.G[1]))}
}
