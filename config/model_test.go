package config

import (
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestModelKey checks the key model: alexnet by default, set by the
// embedded vgg11-cpu-quick, CROSSGRAD_MODEL and --model; the input size's
// lower bound is the model's (config accepts 64, which AlexNet refuses).
func TestModelKey(t *testing.T) {
	assert.Equal(t, "alexnet", Default().Model)
	c, err := Load("vgg11-cpu-quick", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "embedded:vgg11-cpu-quick", c.Source)
	assert.Equal(t, "vgg11", c.Model)
	assert.Equal(t, 32, c.InputSize)
	assert.InDelta(t, 0.25, c.Width, 0)
	assert.Equal(t, 2, c.Epochs)

	c, err = Load("", []string{"CROSSGRAD_MODEL=vgg11"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "vgg11", c.Model)
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	RegisterFlags(fs, "model", "input_size")
	require.NoError(t, fs.Parse([]string{"--model", "resnet", "--input-size", "64"}))
	c, err = Load("", []string{"CROSSGRAD_MODEL=vgg11"}, fs)
	require.NoError(t, err, "config checks no model name nor its minimum input: package model does")
	assert.Equal(t, "resnet", c.Model)
	assert.Equal(t, 64, c.InputSize)
	assert.Contains(t, string(c.YAML()), `model: "resnet"`)
}
