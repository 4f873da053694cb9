package layers

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// Linear is torch.nn.Linear: y[N,Out] = x[N,In] * weight^T + bias with
// weight [Out,In] and bias [Out].
type Linear struct {
	base
	In, Out int
}

// NewLinear returns an unnamed Linear.
func NewLinear(in, out int) *Linear { return &Linear{In: in, Out: out} }

// Type implements Layer.
func (*Linear) Type() string { return "Linear" }

// String implements Layer, e.g. "fc.0 (Linear 6400->4096)".
func (l *Linear) String() string {
	return describe(l.name, l.Type(), fmt.Sprintf("%d->%d", l.In, l.Out))
}

// OutShape implements Layer.
func (l *Linear) OutShape(in Shape) (Shape, error) {
	if l.In <= 0 || l.Out <= 0 {
		return nil, fmt.Errorf("%s: sizes must be positive", l)
	}
	if len(in) != 2 || in[1] != l.In {
		return nil, fmt.Errorf("%s: input %v is not [N, %d]", l, []int(in), l.In)
	}
	return Shape{in[0], l.Out}, nil
}

// Params implements Layer: weight [Out,In], bias [Out], fan_in In.
func (l *Linear) Params() []ParamSpec {
	return []ParamSpec{
		{Suffix: "weight", Shape: []int{l.Out, l.In}, FanIn: l.In},
		{Suffix: "bias", Shape: []int{l.Out}, FanIn: l.In},
	}
}

// AuxSizes implements Layer (none).
func (*Linear) AuxSizes(Shape) []int { return nil }

// Flags implements Layer: the weight gradient reads the input.
func (*Linear) Flags() Flags { return Flags{NeedsInput: true} }

// Forward implements Layer: gemm(x, W, y) with TransB=1, then bias_add(y,
// b), with the following ReLU when c.FuseRelu.
func (l *Linear) Forward(c *Ctx) []Dispatch {
	n := u32(c.In[0])
	return []Dispatch{
		op(backend.Gemm{M: n, N: u32(l.Out), K: u32(l.In), TransB: 1, Alpha: 1}, c.X, c.W[0], c.Y),
		op(backend.BiasAdd{Rows: n, Cols: u32(l.Out), Relu: flag(c.FuseRelu)}, c.Y, c.W[1]),
	}
}

// Backward implements Layer: db = column sums of dy (first masking dy in
// place by the following ReLU when c.MaskRelu), then dx = dy*W (when
// wanted) and dW = dy^T*x (TransA=1).
func (l *Linear) Backward(c *Ctx) []Dispatch {
	n := u32(c.In[0])
	ds := []Dispatch{maskRelu(c, op(backend.BiasGrad{Rows: n, Cols: u32(l.Out)}, c.DY, c.G[1]))}
	if c.DX != nil {
		ds = append(ds, op(backend.Gemm{M: n, N: u32(l.In), K: u32(l.Out), Alpha: 1}, c.DY, c.W[0], c.DX))
	}
	return append(ds, op(backend.Gemm{M: u32(l.Out), N: u32(l.In), K: n, TransA: 1, Alpha: 1}, c.DY, c.X, c.G[0]))
}
