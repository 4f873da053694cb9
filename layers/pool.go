package layers

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// MaxPool2d is torch.nn.MaxPool2d(kernel_size=K, stride=Stride, padding=Pad)
// with ceil_mode=False: x[N,C,H,W] -> y[N,C,OH,OW], OH = (H+2*Pad-K)/Stride+1.
// It keeps one auxiliary buffer of argmax indices, the size of y.
type MaxPool2d struct {
	base
	K, Stride, Pad int
}

// NewMaxPool2d returns an unnamed MaxPool2d.
func NewMaxPool2d(k, stride int) *MaxPool2d { return &MaxPool2d{K: k, Stride: stride} }

// Type implements Layer.
func (*MaxPool2d) Type() string { return "MaxPool2d" }

// String implements Layer, e.g. "conv.2 (MaxPool2d k3 s2)".
func (l *MaxPool2d) String() string {
	cfg := fmt.Sprintf("k%d s%d", l.K, l.Stride)
	if l.Pad != 0 {
		cfg += fmt.Sprintf(" p%d", l.Pad)
	}
	return describe(l.name, l.Type(), cfg)
}

// OutShape implements Layer.
func (l *MaxPool2d) OutShape(in Shape) (Shape, error) {
	if l.K <= 0 || l.Stride <= 0 || l.Pad < 0 || 2*l.Pad > l.K {
		return nil, fmt.Errorf("%s: kernel and stride must be positive and padding at most half the kernel", l)
	}
	if len(in) != 4 {
		return nil, fmt.Errorf("%s: input %v is not [N, C, H, W]", l, []int(in))
	}
	h, w := in[2]+2*l.Pad, in[3]+2*l.Pad
	if h < l.K || w < l.K {
		return nil, fmt.Errorf("%s: input %dx%d smaller than kernel %dx%d", l, in[2], in[3], l.K, l.K)
	}
	return Shape{in[0], in[1], (h-l.K)/l.Stride + 1, (w-l.K)/l.Stride + 1}, nil
}

// Params implements Layer (none).
func (*MaxPool2d) Params() []ParamSpec { return nil }

// AuxSizes implements Layer: the argmax index buffer, one float per output.
func (l *MaxPool2d) AuxSizes(in Shape) []int {
	out, err := l.OutShape(in)
	if err != nil {
		return nil
	}
	return []int{out.Elems()}
}

// Flags implements Layer: backward needs only the indices.
func (*MaxPool2d) Flags() Flags { return Flags{} }

func (l *MaxPool2d) shape(in Shape) backend.Pool2DShape {
	return backend.NewPool2DShape(in[0], in[1], in[2], in[3], l.K, l.Stride, l.Pad)
}

// Forward implements Layer: maxpool_fwd(x, y, idx).
func (l *MaxPool2d) Forward(c *Ctx) []Dispatch {
	return []Dispatch{op(backend.MaxPoolFwd{Pool2DShape: l.shape(c.In)}, c.X, c.Y, c.Aux[0])}
}

// Backward implements Layer: maxpool_bwd(dy, idx, dx).
func (l *MaxPool2d) Backward(c *Ctx) []Dispatch {
	if c.DX == nil {
		return nil
	}
	return []Dispatch{op(backend.MaxPoolBwd{Pool2DShape: l.shape(c.In)}, c.DY, c.Aux[0], c.DX)}
}
