// Package alexnet builds the AlexNet of the crossgrad seed (a single-channel
// 224x224 PyTorch AlexNet for Fashion-MNIST, 46,764,746 parameters) as a
// layers.Sequential whose layer names match the PyTorch state_dict keys
// (conv.0 ... conv.12, fc.0 ... fc.6), with options for the input size, a
// channel-width multiplier and the dropout probability.
package alexnet

import (
	"fmt"
	"io"
	"math"

	"github.com/crossgrad/crossgrad/layers"
)

// FullParams is the parameter count of the seed model (224x224, width 1).
const FullParams = 46764746

// MinInputSize is the smallest input side the architecture accepts.
const MinInputSize = 65

// Options configure the model. Start from DefaultOptions.
type Options struct {
	InputSize int     // side of the square single-channel input (224; at least 65)
	Width     float64 // multiplier of conv channels and fc hidden width (1)
	Dropout   float32 // drop probability of fc.2 and fc.5 (0.5)
	Classes   int     // output classes (10)
	Seed      uint32  // dropout mask seed; fc.2 uses Seed, fc.5 Seed+1
}

// DefaultOptions is the seed model: 224x224 input, width 1, dropout 0.5, 10
// classes.
func DefaultOptions() Options {
	return Options{InputSize: 224, Width: 1, Dropout: 0.5, Classes: 10}
}

// Model is an AlexNet: the Sequential plus the options it was built from.
type Model struct {
	*layers.Sequential
	Opts Options
}

// Scaled is round(c*width), at least 1: the channel count of a width-scaled
// layer.
func Scaled(c int, width float64) int {
	return max(1, int(math.Round(float64(c)*width)))
}

// New builds the model, checking every layer's shape for the input size: a
// too small input is an error naming the first layer it does not fit.
func New(o Options) (*Model, error) {
	if !(o.Width > 0) || o.Classes < 1 || o.InputSize < 1 {
		return nil, fmt.Errorf("alexnet: width %v, classes %d and input size %d must be positive", o.Width, o.Classes, o.InputSize)
	}
	if !(o.Dropout >= 0 && o.Dropout <= 1) {
		return nil, fmt.Errorf("alexnet: dropout %v outside [0, 1]", o.Dropout)
	}
	c1, c2, c3, c4, c5 := Scaled(96, o.Width), Scaled(256, o.Width), Scaled(384, o.Width), Scaled(384, o.Width), Scaled(256, o.Width)
	hidden := Scaled(4096, o.Width)
	conv := []layers.Layer{
		layers.NewConv2d(1, c1, 11, 4, 1), layers.NewReLU(), layers.NewMaxPool2d(3, 2),
		layers.NewConv2d(c1, c2, 5, 1, 2), layers.NewReLU(), layers.NewMaxPool2d(3, 2),
		layers.NewConv2d(c2, c3, 3, 1, 1), layers.NewReLU(),
		layers.NewConv2d(c3, c4, 3, 1, 1), layers.NewReLU(),
		layers.NewConv2d(c4, c5, 3, 1, 1), layers.NewReLU(),
		layers.NewMaxPool2d(3, 2),
	}
	features := layers.NewSequential().Add("conv", conv...)
	fout, err := features.OutShape(layers.Shape{1, 1, o.InputSize, o.InputSize})
	if err != nil {
		return nil, fmt.Errorf("alexnet: input %dx%d: %w", o.InputSize, o.InputSize, err)
	}
	flat := fout[1] * fout[2] * fout[3]
	seq := layers.NewSequential().Add("conv", conv...).Add("", layers.NewFlatten()).Add("fc",
		layers.NewLinear(flat, hidden), layers.NewReLU(), layers.NewDropout(o.Dropout, o.Seed),
		layers.NewLinear(hidden, hidden), layers.NewReLU(), layers.NewDropout(o.Dropout, o.Seed+1),
		layers.NewLinear(hidden, o.Classes))
	if _, err := seq.OutShape(layers.Shape{1, 1, o.InputSize, o.InputSize}); err != nil {
		return nil, fmt.Errorf("alexnet: %w", err)
	}
	return &Model{Sequential: seq, Opts: o}, nil
}

// InputShape is the model input [batch, 1, InputSize, InputSize].
func (m *Model) InputShape(batch int) layers.Shape {
	return layers.Shape{batch, 1, m.Opts.InputSize, m.Opts.InputSize}
}

// Summary writes the torchsummary-style table of the model: each layer's
// output shape [-1, C, H, W] and parameter count, then the totals.
func (m *Model) Summary(w io.Writer) error { return m.Sequential.Summary(w, m.InputShape(1)) }
