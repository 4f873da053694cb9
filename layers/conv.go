package layers

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// Conv2d is torch.nn.Conv2d with square kernel, stride and padding:
// x[N,In,H,W] -> y[N,Out,OH,OW], OH = (H+2*Pad-K)/Stride+1. Parameters:
// weight [Out,In,K,K] and bias [Out].
type Conv2d struct {
	base
	In, Out, K, Stride, Pad int
}

// NewConv2d returns an unnamed Conv2d.
func NewConv2d(in, out, k, stride, pad int) *Conv2d {
	return &Conv2d{In: in, Out: out, K: k, Stride: stride, Pad: pad}
}

// Type implements Layer.
func (*Conv2d) Type() string { return "Conv2d" }

// String implements Layer, e.g. "conv.3 (Conv2d 96->256 k5)".
func (l *Conv2d) String() string {
	cfg := fmt.Sprintf("%d->%d k%d", l.In, l.Out, l.K)
	if l.Stride != 1 {
		cfg += fmt.Sprintf(" s%d", l.Stride)
	}
	if l.Pad != 0 {
		cfg += fmt.Sprintf(" p%d", l.Pad)
	}
	return describe(l.name, l.Type(), cfg)
}

// OutShape implements Layer.
func (l *Conv2d) OutShape(in Shape) (Shape, error) {
	if l.In <= 0 || l.Out <= 0 || l.K <= 0 || l.Stride <= 0 || l.Pad < 0 {
		return nil, fmt.Errorf("%s: channels, kernel and stride must be positive, padding not negative", l)
	}
	if len(in) != 4 {
		return nil, fmt.Errorf("%s: input %v is not [N, C, H, W]", l, []int(in))
	}
	if in[1] != l.In {
		return nil, fmt.Errorf("%s: input has %d channels, want %d", l, in[1], l.In)
	}
	h, w := in[2]+2*l.Pad, in[3]+2*l.Pad
	if h < l.K || w < l.K {
		return nil, fmt.Errorf("%s: input %dx%d (padded %dx%d) smaller than kernel %dx%d", l, in[2], in[3], h, w, l.K, l.K)
	}
	return Shape{in[0], l.Out, (h-l.K)/l.Stride + 1, (w-l.K)/l.Stride + 1}, nil
}

// Params implements Layer: weight [Out,In,K,K], bias [Out], fan_in In*K*K.
func (l *Conv2d) Params() []ParamSpec {
	fan := l.In * l.K * l.K
	return []ParamSpec{
		{Suffix: "weight", Shape: []int{l.Out, l.In, l.K, l.K}, FanIn: fan},
		{Suffix: "bias", Shape: []int{l.Out}, FanIn: fan},
	}
}

// AuxSizes implements Layer (none).
func (*Conv2d) AuxSizes(Shape) []int { return nil }

// Flags implements Layer: the filter gradient reads the input.
func (*Conv2d) Flags() Flags { return Flags{NeedsInput: true} }

func (l *Conv2d) shape(in Shape) backend.Conv2DShape {
	return backend.NewConv2DShape(in[0], in[1], in[2], in[3], l.Out, l.K, l.K, l.Stride, l.Pad)
}

// Forward implements Layer: conv2d_fwd(x, w, b, y), or Winograd when
// c.Winograd (see Product).
func (l *Conv2d) Forward(c *Ctx) []Dispatch { return l.Product(c, false) }

// Backward implements Layer: conv2d_bwd_data(dy, w, dx), or Winograd when
// c.Winograd (see Product), when DX is wanted, then
// conv2d_bwd_filter(x, dy, dw, db), or Winograd when c.WinogradGrad (see
// FilterGrad).
func (l *Conv2d) Backward(c *Ctx) []Dispatch {
	var ds []Dispatch
	if c.DX != nil {
		ds = l.Product(c, true)
	}
	return append(ds, l.FilterGrad(c)...)
}
