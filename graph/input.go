package graph

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/layers"
)

// Input is the input stage of a plan: it owns the device buffer the images
// are uploaded into and writes the model input (activation 0) from it.
type Input interface {
	// Type names the stage in Part.Type, e.g. "Resize".
	Type() string
	// String describes one stored image for messages, e.g. "28x28".
	String() string
	// Buffers checks the model input shape in (planned batch first) and
	// declares the stage's buffers; the first holds the uploaded images.
	Buffers(in layers.Shape) ([]BufferSpec, error)
	// ImageBytes is the size of one stored image in bytes.
	ImageBytes() int
	// PackedLen is the number of float32 words n images take once packed
	// by backend.PackBytes.
	PackedLen(n int) int
	// Forward lists the dispatches writing the model input x of the first
	// n images (shape in, batch n) from the stage's buffers, in Buffers order.
	Forward(n int, in layers.Shape, bufs []backend.Buffer, x backend.Buffer) []layers.Dispatch
}

// ResizeInput is the input stage of single-channel uint8 images of a stored
// size SrcH x SrcW (28x28 for MNIST and Fashion-MNIST), uploaded packed four
// to a float32 word, and resized bilinearly on the device to the model input
// [B, 1, H, W] with pixels scaled to [0, 1].
type ResizeInput struct{ SrcH, SrcW int }

// Type implements Input.
func (ResizeInput) Type() string { return "Resize" }

// String implements Input: "28x28".
func (r ResizeInput) String() string { return fmt.Sprintf("%dx%d", r.SrcH, r.SrcW) }

// Buffers implements Input: one buffer "input.packed" of PackedLen(B) words.
func (r ResizeInput) Buffers(in layers.Shape) ([]BufferSpec, error) {
	if len(in) != 4 || in[1] != 1 {
		return nil, fmt.Errorf("graph: input shape %v is not [B, 1, H, W] (the plan resizes single-channel images)", []int(in))
	}
	if r.SrcH <= 0 || r.SrcW <= 0 {
		return nil, fmt.Errorf("graph: source image size %dx%d must be positive", r.SrcH, r.SrcW)
	}
	return []BufferSpec{{Name: "input.packed", Kind: KindInput, Elems: r.PackedLen(in[0])}}, nil
}

// ImageBytes implements Input: SrcH*SrcW.
func (r ResizeInput) ImageBytes() int { return r.SrcH * r.SrcW }

// PackedLen implements Input.
func (r ResizeInput) PackedLen(n int) int { return (n*r.ImageBytes() + 3) / 4 }

// Forward implements Input: one resize_bilinear of the packed images.
func (r ResizeInput) Forward(n int, in layers.Shape, bufs []backend.Buffer, x backend.Buffer) []layers.Dispatch {
	rs := backend.ResizeBilinear{N: uint32(n), InH: uint32(r.SrcH), InW: uint32(r.SrcW),
		OutH: uint32(in[2]), OutW: uint32(in[3]), Packed: 1}
	return []layers.Dispatch{{P: rs, Bufs: []backend.Buffer{bufs[0], x}}}
}
