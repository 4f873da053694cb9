// Package vgg builds VGG-11 as d2l.ai's VGG chapter trains it on
// Fashion-MNIST with the channel ratio 4: five blocks of 1, 1, 2, 2, 2
// conv3x3 (padding 1) + ReLU with 16, 32, 64, 128, 128 channels, each block
// followed by a 2x2 max-pool of stride 2, then Flatten, Linear 6272->4096,
// ReLU, Dropout 0.5, Linear 4096->4096, ReLU, Dropout 0.5, Linear 4096->10:
// 43,093,322 parameters at 1x224x224. Layer names are the state_dict keys
// of that PyTorch nn.Sequential (blocks 0..4, each an nn.Sequential; the
// Linear layers 6, 9 and 12), so PyTorch loads a crossgrad checkpoint with
// load_state_dict(strict=True). It registers itself as model "vgg11".
package vgg

import (
	"fmt"
	"strconv"

	"github.com/crossgrad/crossgrad/layers"
	"github.com/crossgrad/crossgrad/model"
)

// Name is the architecture's registered name (config key model).
const Name = "vgg11"

// FullParams is the parameter count at 224x224, width 1.
const FullParams = 43093322

// MinInputSize is the smallest input side: the five 2x2 max-pools halve
// the side (rounding down) to at least 1. The first Linear then takes
// 128*width x (InputSize/32)^2 features (6272 at 224).
const MinInputSize = 32

// Hidden is the width of the two hidden Linear layers at width 1.
const Hidden = 4096

// Block is one VGG block: Convs conv3x3+ReLU pairs of Channels channels,
// then the max-pool.
type Block struct{ Convs, Channels int }

// Blocks is VGG-11's conv_arch divided by the ratio 4.
var Blocks = []Block{{1, 16}, {1, 32}, {2, 64}, {2, 128}, {2, 128}}

// Model is a VGG-11: the Sequential plus the options it was built from.
type Model = model.Model

// Options configure the model: input size, width (multiplies every block's
// channels and Hidden), dropout of layers 8 and 11 (Seed and Seed+1),
// classes. Start from model.DefaultOptions.
type Options = model.Options

// Arch is VGG-11 as a model.Arch.
type Arch struct{}

func init() { model.Register(Arch{}) }

// Name implements model.Arch.
func (Arch) Name() string { return Name }

// Title implements model.Arch.
func (Arch) Title() string {
	return fmt.Sprintf("d2l.ai's VGG-11 with channel ratio 4 (%s parameters at 224x224, input at least %d)", layers.Comma(FullParams), MinInputSize)
}

const poolsWhy = "the five 2x2 max-pools"

// Validate implements model.Arch: positive width, classes and input size,
// dropout in [0, 1] and an input of at least MinInputSize; the error of a
// too small input names the first pool it does not fit.
func (Arch) Validate(o Options) error {
	if err := model.CheckCommon(Name, o); err != nil {
		return err
	}
	_, err := model.CheckInput(Name, features(o), o, MinInputSize, poolsWhy)
	return err
}

// Build implements model.Arch.
func (Arch) Build(o Options) (*layers.Sequential, error) {
	seq := features(o)
	fout, err := model.CheckInput(Name, seq, o, MinInputSize, poolsWhy)
	if err != nil {
		return nil, err
	}
	flat, hidden := fout[1]*fout[2]*fout[3], model.Scaled(Hidden, o.Width)
	next := len(Blocks)
	for _, l := range []layers.Layer{layers.NewFlatten(),
		layers.NewLinear(flat, hidden), layers.NewReLU(), layers.NewDropout(o.Dropout, o.Seed),
		layers.NewLinear(hidden, hidden), layers.NewReLU(), layers.NewDropout(o.Dropout, o.Seed+1),
		layers.NewLinear(hidden, o.Classes)} {
		l.SetName(strconv.Itoa(next))
		seq.Add("", l)
		next++
	}
	if _, err := seq.OutShape(layers.Shape{1, 1, o.InputSize, o.InputSize}); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return seq, nil
}

// features is the five blocks: block b's layers are named b.0, b.1, ... as
// the children of the b-th nn.Sequential.
func features(o Options) *layers.Sequential {
	seq := layers.NewSequential()
	in := 1
	for b, blk := range Blocks {
		out := model.Scaled(blk.Channels, o.Width)
		var ls []layers.Layer
		for range blk.Convs {
			ls = append(ls, layers.NewConv2d(in, out, 3, 1, 1), layers.NewReLU())
			in = out
		}
		seq.Add(strconv.Itoa(b), append(ls, layers.NewMaxPool2d(2, 2))...)
	}
	return seq
}

// New builds the model for o.
func New(o Options) (*Model, error) { return model.Build(Arch{}, o) }
