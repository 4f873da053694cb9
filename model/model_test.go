package model_test

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/alexnet"
	"github.com/crossgrad/crossgrad/layers"
	"github.com/crossgrad/crossgrad/model"
	"github.com/crossgrad/crossgrad/vgg"
)

// fakeArch is a one-layer model whose Validate refuses inputs over 8.
type fakeArch struct{}

func (fakeArch) Name() string  { return "fake" }
func (fakeArch) Title() string { return "a test model" }
func (fakeArch) Validate(o model.Options) error {
	if o.InputSize > 8 {
		return errors.New("fake: input_size over 8")
	}
	return nil
}
func (fakeArch) Build(o model.Options) (*layers.Sequential, error) {
	return layers.NewSequential().Add("", layers.NewFlatten()).Add("head", layers.NewLinear(o.InputSize*o.InputSize, o.Classes)), nil
}

var registerFake sync.Once

func TestRegistry(t *testing.T) {
	assert.Equal(t, []string{alexnet.Name, vgg.Name}, slices.DeleteFunc(model.Names(), func(n string) bool { return n == "fake" }))

	a, err := model.Lookup("vgg11")
	require.NoError(t, err)
	assert.Equal(t, "vgg11", a.Name())
	_, err = model.Lookup("resnet18")
	require.EqualError(t, err, `model: unknown model "resnet18"; known models: alexnet, vgg11 (set --model or the config key model)`)
	_, err = model.New("VGG11", model.DefaultOptions())
	require.ErrorContains(t, err, `unknown model "VGG11"; known models: alexnet, vgg11`)

	registerFake.Do(func() { model.Register(fakeArch{}) })
	assert.Contains(t, model.Names(), "fake")
	assert.Panics(t, func() { model.Register(fakeArch{}) }, "a name registered twice is a programmer error")
	o := model.DefaultOptions()
	o.InputSize, o.Classes = 4, 3
	m, err := model.New("fake", o)
	require.NoError(t, err)
	assert.Equal(t, "fake", m.Name())
	assert.Equal(t, []string{"head.0.weight", "head.0.bias"}, m.TensorNames())
	assert.Equal(t, layers.Shape{5, 1, 4, 4}, m.InputShape(5))
	assert.Equal(t, "fake input_size 4, width 1", m.Describe())
	o.InputSize = 9
	_, err = model.New("fake", o)
	require.EqualError(t, err, "fake: input_size over 8", "New validates before building")
}

// TestModelsValidateTheirOwnInput checks each architecture's minimum input:
// AlexNet 65 (its conv.12 pool), VGG-11 32 (its fifth pool).
func TestModelsValidateTheirOwnInput(t *testing.T) {
	for _, c := range []struct {
		name    string
		min     int
		message string
	}{
		{"alexnet", alexnet.MinInputSize, "alexnet: input_size 64 is too small; allowed: at least 65 (the three 3x3/2 max-pools): conv.12 (MaxPool2d k3 s2): input 2x2 smaller than kernel 3x3"},
		{"vgg11", vgg.MinInputSize, "vgg11: input_size 31 is too small; allowed: at least 32 (the five 2x2 max-pools): 4.4 (MaxPool2d k2 s2): input 1x1 smaller than kernel 2x2"},
	} {
		o := model.DefaultOptions()
		o.InputSize, o.Width = c.min, 0.125
		m, err := model.New(c.name, o)
		require.NoError(t, err, c.name)
		assert.Equal(t, c.name, m.Name())
		out, err := m.OutShape(m.InputShape(3))
		require.NoError(t, err)
		assert.Equal(t, layers.Shape{3, 10}, out)
		o.InputSize = c.min - 1
		a, err := model.Lookup(c.name)
		require.NoError(t, err)
		require.EqualError(t, a.Validate(o), c.message)
		_, err = model.New(c.name, o)
		require.EqualError(t, err, c.message)
	}
	m, err := model.New("alexnet", model.DefaultOptions())
	require.NoError(t, err)
	assert.Equal(t, alexnet.FullParams, m.ParamCount())
	assert.Equal(t, "alexnet input_size 224, width 1", m.Describe())
	assert.Equal(t, "conv.0.weight", m.TensorNames()[0])
	assert.Equal(t, "fc.6.bias", m.TensorNames()[15])
}

func TestScaled(t *testing.T) {
	assert.Equal(t, 48, model.Scaled(96, 0.5))
	assert.Equal(t, 6, model.Scaled(96, 1.0/16))
	assert.Equal(t, 1, model.Scaled(4096, 1e-9), "at least one channel")
}
