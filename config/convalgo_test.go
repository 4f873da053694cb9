package config

import (
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConvAlgoAndFuseKeys: conv_algo defaults to auto and fuse to true;
// file, environment and flags set them; an unknown conv_algo is refused
// naming the key, the value and the values allowed.
func TestConvAlgoAndFuseKeys(t *testing.T) {
	c, err := Load("", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "auto", c.ConvAlgo)
	assert.True(t, c.Fuse)

	c, err = Load(writeYAML(t, "conv_algo: winograd\nfuse: false\n"), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "winograd", c.ConvAlgo)
	assert.False(t, c.Fuse)

	c, err = Load("", []string{"CROSSGRAD_CONV_ALGO=gemm", "CROSSGRAD_FUSE=false"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "gemm", c.ConvAlgo)
	assert.False(t, c.Fuse)

	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	RegisterFlags(fs)
	require.NoError(t, fs.Parse([]string{"--conv-algo", "winograd", "--fuse=false"}))
	c, err = Load("", nil, fs)
	require.NoError(t, err)
	assert.Equal(t, "winograd", c.ConvAlgo)
	assert.False(t, c.Fuse)

	_, err = Load("", []string{"CROSSGRAD_CONV_ALGO=fft"}, nil)
	require.ErrorContains(t, err, `conv_algo = "fft" is invalid; allowed: auto, gemm, winograd (from environment CROSSGRAD_CONV_ALGO)`)
	_, err = Load(writeYAML(t, "conv_algo: winogard\n"), nil, nil)
	require.ErrorContains(t, err, `conv_algo = "winogard" is invalid; allowed: auto, gemm, winograd (did you mean winograd?)`)
}
