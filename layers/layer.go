// Package layers defines the building blocks of a crossgrad model: each layer
// knows its output shape, its trainable parameters (PyTorch names and shapes),
// any non-trained state (Stateful) and how to express its forward and backward passes as dispatches of the
// closed kernel list over buffers that a planner (package graph) allocates.
// Layers hold no device state, so one model can be planned on any
// backend.Device.
package layers

import (
	"fmt"
	"strings"

	"github.com/crossgrad/crossgrad/backend"
)

// Shape is a tensor shape, batch dimension first: [N, C, H, W] for images,
// [N, F] for feature vectors.
type Shape []int

// Elems is the product of the dimensions (0 for an empty shape).
func (s Shape) Elems() int {
	if len(s) == 0 {
		return 0
	}
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// WithBatch returns a copy of s with the batch dimension set to n.
func (s Shape) WithBatch(n int) Shape {
	out := append(Shape(nil), s...)
	if len(out) > 0 {
		out[0] = n
	}
	return out
}

// String formats s as torchsummary does, batch shown as -1: "[-1, 96, 54, 54]".
func (s Shape) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		if i == 0 {
			d = -1
		}
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// ParamSpec describes one trainable parameter of a layer.
type ParamSpec struct {
	Suffix string // "weight" or "bias"; the full name is layer name + "." + Suffix
	Shape  []int  // PyTorch shape: conv weight [out,in,kh,kw], linear weight [out,in], bias [out]
	FanIn  int    // fan_in of PyTorch's default init: bound = 1/sqrt(FanIn)
}

// Elems is the element count of the parameter.
func (p ParamSpec) Elems() int { return Shape(p.Shape).Elems() }

// Flags tell the planner how a layer may share buffers.
type Flags struct {
	// Alias: the output is the input buffer reinterpreted (Flatten); the
	// layer dispatches nothing and its gradient is the output's gradient.
	Alias bool
	// InPlace: forward may write its output over its input buffer.
	InPlace bool
	// GradInPlace: backward may write dx over dy.
	GradInPlace bool
	// NeedsInput: backward reads the forward input x.
	NeedsInput bool
	// NeedsOutput: backward reads the forward output y.
	NeedsOutput bool
}

// Ctx holds the buffers and shapes a layer's forward or backward pass works
// on. Shapes carry the actual batch n of the step (n <= planned batch); the
// buffers are owned by the planner and may be larger than the shapes need.
type Ctx struct {
	In, Out Shape
	X, Y    backend.Buffer   // forward input and output (the same buffer when in place)
	DX, DY  backend.Buffer   // gradients of x and y; DX is nil when no gradient of x is needed
	W, G    []backend.Buffer // parameters and their gradients, in Params() order
	Aux     []backend.Buffer // extra buffers of AuxSizes(), in order
	S       []backend.Buffer // non-trained state of a Stateful layer, in State() order
	Train   bool             // training mode (dropout active)
	Step    uint32           // training step, the dropout counter
	// ImageOffset is the global index of the batch's first image (a
	// data-parallel shard's offset in the global batch; 0 on one device):
	// dropout masks are drawn at the global element index.
	ImageOffset uint32
	// Winograd runs the pass's input product (forward: y; backward: dx) of
	// a Winograder as Winograd F(2x2,3x3) over Scratch (U, V, M, sized for
	// the planned batch; see backend.WinogradPlan); other layers ignore both.
	Winograd bool
	// Winograd4 makes that Winograd product F(4x4,3x3) instead (see
	// backend.WinogradConv4), where the pass admits it.
	Winograd4 bool
	// WinogradGrad runs a Winograder's parameter gradients as Winograd
	// F(3x3,2x2) over Scratch (see backend.WinogradGradPlan).
	WinogradGrad bool
	// WinogradGrad4 makes them F(3x3,4x4) instead (backend.WinogradGrad4),
	// where the layer admits it.
	WinogradGrad4 bool
	Scratch       []backend.Buffer
	// FuseRelu asks a Conv2d or Linear forward to apply the ReLU that
	// follows it in its own store (Conv2DFwd.Relu, WinogradOutput.Relu,
	// BiasAdd.Relu): the planner then leaves out that ReLU's forward pass.
	// The values are those of the two passes, bit for bit.
	FuseRelu bool
	// MaskRelu asks a Linear or Conv2d backward to apply the backward of
	// the in-place ReLU that follows it, y > 0 ? dy : 0 with y = Y (the
	// ReLU's output): Linear's bias_grad masks DY in place before its
	// products (BiasGrad.MaskRelu), Conv2d's products read DY masked
	// (Conv2DBwdData, Conv2DBwdFilter, WinogradInput, WinogradDy MaskRelu). The planner
	// then leaves out that ReLU's backward pass, with the same values.
	MaskRelu bool
}

// Dispatch is one kernel launch: params and buffers in dispatch order.
type Dispatch struct {
	P    backend.Params
	Bufs []backend.Buffer
}

func op(p backend.Params, bufs ...backend.Buffer) Dispatch { return Dispatch{P: p, Bufs: bufs} }

// Run queues ds on dev in order; the error names the failing kernel.
func Run(dev backend.Device, ds []Dispatch) error {
	for _, d := range ds {
		if err := dev.Dispatch(d.P, d.Bufs...); err != nil {
			return err
		}
	}
	return nil
}

// Layer is one leaf module of a model.
type Layer interface {
	// Name is the PyTorch state_dict prefix of the layer, e.g. "conv.3".
	Name() string
	// SetName sets the name (Sequential.Add names its layers).
	SetName(name string)
	// Type is the PyTorch class name, e.g. "Conv2d".
	Type() string
	// String names the layer and its configuration, e.g. "conv.3 (Conv2d 96->256 k5)".
	String() string
	// OutShape is the output shape for input shape in (batch first); the error
	// names the layer when in is not a valid input.
	OutShape(in Shape) (Shape, error)
	// Params lists the trainable parameters (none for parameter-free layers).
	Params() []ParamSpec
	// AuxSizes lists the float32 element counts of extra buffers the layer
	// needs for input shape in (e.g. max-pool argmax indices).
	AuxSizes(in Shape) []int
	// Flags describe buffer sharing.
	Flags() Flags
	// Forward lists the dispatches of the forward pass.
	Forward(c *Ctx) []Dispatch
	// Backward lists the dispatches computing c.DX (when not nil) and the
	// parameter gradients c.G (overwritten, not accumulated) from c.DY.
	Backward(c *Ctx) []Dispatch
}

// base carries a layer's name.
type base struct{ name string }

// Name implements Layer.
func (b *base) Name() string { return b.name }

// SetName implements Layer.
func (b *base) SetName(name string) { b.name = name }

func describe(name, typ, cfg string) string {
	if cfg != "" {
		typ += " " + cfg
	}
	if name == "" {
		return typ
	}
	return name + " (" + typ + ")"
}

func u32(v int) uint32 { return uint32(v) }

// flag is 1 for true, the params structs' boolean.
func flag(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
