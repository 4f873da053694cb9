package layers

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// ReLU is torch.nn.ReLU: y = max(x, 0), any shape. It may run in place and
// its backward reads only the output y.
type ReLU struct{ base }

// NewReLU returns an unnamed ReLU.
func NewReLU() *ReLU { return &ReLU{} }

// Type implements Layer.
func (*ReLU) Type() string { return "ReLU" }

// String implements Layer.
func (l *ReLU) String() string { return describe(l.name, l.Type(), "") }

// OutShape implements Layer: the input shape.
func (l *ReLU) OutShape(in Shape) (Shape, error) { return elementwiseShape(l, in) }

// Params implements Layer (none).
func (*ReLU) Params() []ParamSpec { return nil }

// AuxSizes implements Layer (none).
func (*ReLU) AuxSizes(Shape) []int { return nil }

// Flags implements Layer.
func (*ReLU) Flags() Flags { return Flags{InPlace: true, GradInPlace: true, NeedsOutput: true} }

// Forward implements Layer: relu_fwd(x, y).
func (*ReLU) Forward(c *Ctx) []Dispatch {
	return []Dispatch{op(backend.ReluFwd{N: u32(c.In.Elems())}, c.X, c.Y)}
}

// Backward implements Layer: relu_bwd(y, dy, dx).
func (*ReLU) Backward(c *Ctx) []Dispatch {
	if c.DX == nil {
		return nil
	}
	return []Dispatch{op(backend.ReluBwd{N: u32(c.In.Elems())}, c.Y, c.DY, c.DX)}
}

// maskRelu is d applying the backward of the ReLU that follows the layer
// to the dy it reads (MaskRelu 1, the ReLU's output c.Y as the last
// buffer) when c.MaskRelu and d is a kernel that can (a
// backend.ReluMasker), else d.
func maskRelu(c *Ctx, d Dispatch) Dispatch {
	m, ok := d.P.(backend.ReluMasker)
	if !c.MaskRelu || !ok {
		return d
	}
	d.P = m.WithMaskRelu()
	d.Bufs = append(d.Bufs[:len(d.Bufs):len(d.Bufs)], c.Y)
	return d
}

// Dropout is torch.nn.Dropout(p): in training, element i is zeroed when the
// Philox uniform u(Seed, step, i) < P and the rest scaled by 1/(1-P); in
// evaluation it is the identity. i is the global element index (counting
// from the first image of the global batch, see Ctx.ImageOffset) and the
// mask a pure function of (Seed, step, i), so backward recomputes it, any
// backend reproduces it, and it does not depend on how a batch is split.
type Dropout struct {
	base
	P    float32
	Seed uint32
}

// NewDropout returns an unnamed Dropout with drop probability p and mask seed.
func NewDropout(p float32, seed uint32) *Dropout { return &Dropout{P: p, Seed: seed} }

// Type implements Layer.
func (*Dropout) Type() string { return "Dropout" }

// String implements Layer, e.g. "fc.2 (Dropout p0.5)".
func (l *Dropout) String() string { return describe(l.name, l.Type(), fmt.Sprintf("p%g", l.P)) }

// OutShape implements Layer: the input shape.
func (l *Dropout) OutShape(in Shape) (Shape, error) {
	if !(l.P >= 0 && l.P <= 1) {
		return nil, fmt.Errorf("%s: p must be in [0, 1]", l)
	}
	return elementwiseShape(l, in)
}

// Params implements Layer (none).
func (*Dropout) Params() []ParamSpec { return nil }

// AuxSizes implements Layer (none).
func (*Dropout) AuxSizes(Shape) []int { return nil }

// Flags implements Layer: in place allowed, backward needs no activation.
func (*Dropout) Flags() Flags { return Flags{InPlace: true} }

// Forward implements Layer: dropout_fwd(x, y) in training; in evaluation
// nothing when in place, else a copy (dropout_fwd with P=0, Scale=1).
func (l *Dropout) Forward(c *Ctx) []Dispatch {
	n := u32(c.In.Elems())
	if !c.Train {
		if c.X == c.Y {
			return nil
		}
		return []Dispatch{op(backend.DropoutFwd{N: n, Seed: l.Seed, Step: c.Step, Offset: dropoutOffset(c), P: 0, Scale: 1}, c.X, c.Y)}
	}
	return []Dispatch{op(backend.DropoutFwd{N: n, Seed: l.Seed, Step: c.Step, Offset: dropoutOffset(c), P: l.P, Scale: backend.DropoutScale(l.P)}, c.X, c.Y)}
}

// Backward implements Layer: dropout_bwd(dy, dx) with the forward's mask.
func (l *Dropout) Backward(c *Ctx) []Dispatch {
	if c.DX == nil {
		return nil
	}
	n := u32(c.In.Elems())
	return []Dispatch{op(backend.DropoutBwd{N: n, Seed: l.Seed, Step: c.Step, Offset: dropoutOffset(c), P: l.P, Scale: backend.DropoutScale(l.P)}, c.DY, c.DX)}
}

// dropoutOffset is the global element index of x[0]: ImageOffset images of
// In's per-image size (the index wraps modulo 2^32 as the kernels' counter).
func dropoutOffset(c *Ctx) uint32 {
	if c.ImageOffset == 0 || len(c.In) == 0 || c.In[0] == 0 {
		return 0
	}
	return c.ImageOffset * u32(c.In.Elems()/c.In[0])
}

// Flatten is x.view(N, -1): [N, C, H, W] -> [N, C*H*W]. It aliases its input
// buffer and dispatches nothing.
type Flatten struct{ base }

// NewFlatten returns a Flatten named "flatten".
func NewFlatten() *Flatten { return &Flatten{base{name: "flatten"}} }

// Type implements Layer.
func (*Flatten) Type() string { return "Flatten" }

// String implements Layer.
func (l *Flatten) String() string { return describe(l.name, l.Type(), "") }

// OutShape implements Layer.
func (l *Flatten) OutShape(in Shape) (Shape, error) {
	if len(in) < 2 || in.Elems() <= 0 {
		return nil, fmt.Errorf("%s: cannot flatten input %v", l, []int(in))
	}
	return Shape{in[0], in.Elems() / in[0]}, nil
}

// Params implements Layer (none).
func (*Flatten) Params() []ParamSpec { return nil }

// AuxSizes implements Layer (none).
func (*Flatten) AuxSizes(Shape) []int { return nil }

// Flags implements Layer.
func (*Flatten) Flags() Flags { return Flags{Alias: true} }

// Forward implements Layer (nothing: a view).
func (*Flatten) Forward(*Ctx) []Dispatch { return nil }

// Backward implements Layer (nothing: a view).
func (*Flatten) Backward(*Ctx) []Dispatch { return nil }

func elementwiseShape(l Layer, in Shape) (Shape, error) {
	if len(in) < 2 || in.Elems() <= 0 {
		return nil, fmt.Errorf("%s: invalid input shape %v", l, []int(in))
	}
	return append(Shape(nil), in...), nil
}
