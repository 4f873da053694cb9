// Package alexnet builds the AlexNet of the crossgrad seed (a single-channel
// 224x224 PyTorch AlexNet for Fashion-MNIST, 46,764,746 parameters) as a
// layers.Sequential whose layer names match the PyTorch state_dict keys
// (conv.0 ... conv.12, fc.0 ... fc.6), with options for the input size, a
// channel-width multiplier and the dropout probability. It registers itself
// as model "alexnet".
package alexnet

import (
	"fmt"

	"github.com/crossgrad/crossgrad/layers"
	"github.com/crossgrad/crossgrad/model"
)

// Name is the architecture's registered name (config key model).
const Name = "alexnet"

// FullParams is the parameter count of the seed model (224x224, width 1).
const FullParams = 46764746

// MinInputSize is the smallest input side the architecture accepts: the
// third 3x3/2 max-pool (conv.12) needs a 3x3 input (65 -> conv 15 -> pool 7
// -> conv 7 -> pool 3 -> convs 3 -> pool 1).
const MinInputSize = 65

// Options configure the model (input size, width, dropout of fc.2 and fc.5,
// classes; fc.2 uses Seed, fc.5 Seed+1). Start from DefaultOptions.
type Options = model.Options

// Model is an AlexNet: the Sequential plus the options it was built from.
type Model = model.Model

// DefaultOptions is the seed model: 224x224 input, width 1, dropout 0.5, 10
// classes.
func DefaultOptions() Options { return model.DefaultOptions() }

// Scaled is round(c*width), at least 1: the channel count of a width-scaled
// layer.
func Scaled(c int, width float64) int { return model.Scaled(c, width) }

// Arch is AlexNet as a model.Arch.
type Arch struct{}

func init() { model.Register(Arch{}) }

// Name implements model.Arch.
func (Arch) Name() string { return Name }

// Title implements model.Arch.
func (Arch) Title() string {
	return fmt.Sprintf("the seed tutorial's AlexNet (%s parameters at 224x224, input at least %d)", layers.Comma(FullParams), MinInputSize)
}

// Validate implements model.Arch: positive width, classes and input size,
// dropout in [0, 1] and an input of at least MinInputSize; the error of a
// too small input names the first layer it does not fit (conv.12).
func (Arch) Validate(o Options) error {
	if err := model.CheckCommon(Name, o); err != nil {
		return err
	}
	_, err := model.CheckInput(Name, features(o), o, MinInputSize, "the three 3x3/2 max-pools")
	return err
}

// Build implements model.Arch.
func (Arch) Build(o Options) (*layers.Sequential, error) {
	feats := features(o)
	fout, err := model.CheckInput(Name, feats, o, MinInputSize, "the three 3x3/2 max-pools")
	if err != nil {
		return nil, err
	}
	flat := fout[1] * fout[2] * fout[3]
	hidden := Scaled(4096, o.Width)
	seq := layers.NewSequential().Add("conv", feats.Layers()...).Add("", layers.NewFlatten()).Add("fc",
		layers.NewLinear(flat, hidden), layers.NewReLU(), layers.NewDropout(o.Dropout, o.Seed),
		layers.NewLinear(hidden, hidden), layers.NewReLU(), layers.NewDropout(o.Dropout, o.Seed+1),
		layers.NewLinear(hidden, o.Classes))
	if _, err := seq.OutShape(layers.Shape{1, 1, o.InputSize, o.InputSize}); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return seq, nil
}

// features is the convolutional part, conv.0 ... conv.12.
func features(o Options) *layers.Sequential {
	c1, c2, c3, c4, c5 := Scaled(96, o.Width), Scaled(256, o.Width), Scaled(384, o.Width), Scaled(384, o.Width), Scaled(256, o.Width)
	return layers.NewSequential().Add("conv",
		layers.NewConv2d(1, c1, 11, 4, 1), layers.NewReLU(), layers.NewMaxPool2d(3, 2),
		layers.NewConv2d(c1, c2, 5, 1, 2), layers.NewReLU(), layers.NewMaxPool2d(3, 2),
		layers.NewConv2d(c2, c3, 3, 1, 1), layers.NewReLU(),
		layers.NewConv2d(c3, c4, 3, 1, 1), layers.NewReLU(),
		layers.NewConv2d(c4, c5, 3, 1, 1), layers.NewReLU(),
		layers.NewMaxPool2d(3, 2))
}

// New builds the model, checking every layer's shape for the input size: a
// too small input is an error naming the first layer it does not fit.
func New(o Options) (*Model, error) { return model.Build(Arch{}, o) }
