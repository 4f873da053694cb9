package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSummaryMemoryConvAlgosCLI: summary --memory lists each convolution
// pass's algorithm and the Winograd scratch, following --conv-algo.
func TestSummaryMemoryConvAlgosCLI(t *testing.T) {
	out, _, err := execute(t, context.Background(), "summary", "--memory", "--batch-size", "4", "--input-size", "97", "--width", "0.0625")
	require.NoError(t, err)
	assert.Contains(t, out, "Convolution algorithms (conv_algo auto;")
	assert.Regexp(t, `conv\.6\s+forward\s+winograd\s+rule: Winograd for 3x3 stride 1`, out)
	assert.Regexp(t, `conv\.0\s+forward\s+gemm\s+no Winograd: 11x11 stride 4`, out)
	assert.Regexp(t, `conv\.6\s+backward-filter\s+winograd\s+rule: Winograd for 3x3 stride 1`, out)
	assert.Regexp(t, `total scratch\s+\d+\.\d MiB`, out)
	assert.Contains(t, out, "Winograd scratch (U, V, M, shared by every Winograd pass): ")

	out, _, err = execute(t, context.Background(), "summary", "--memory", "--batch-size", "4", "--input-size", "97", "--width", "0.0625", "--conv-algo", "gemm")
	require.NoError(t, err)
	assert.Regexp(t, `conv\.6\s+backward-data\s+gemm\s+conv_algo gemm`, out)
	assert.Contains(t, out, "Winograd scratch (U, V, M, shared by every Winograd pass): 0.0 MiB")

	_, _, err = execute(t, context.Background(), "summary", "--conv-algo", "fft")
	require.ErrorContains(t, err, `conv_algo = "fft" is invalid; allowed: auto, gemm, winograd (from flag --conv-algo)`)
}

// TestBenchConvAlgoFuseFlagsCLI: bench takes --conv-algo and --fuse into
// the configuration its plans are made with, and refuses bad values.
func TestBenchConvAlgoFuseFlagsCLI(t *testing.T) {
	cfg, err := benchConfig(benchFlags{convAlgo: "gemm", fuse: "false"})
	require.NoError(t, err)
	assert.Equal(t, "gemm", cfg.ConvAlgo)
	assert.False(t, cfg.Fuse)
	cfg, err = benchConfig(benchFlags{})
	require.NoError(t, err)
	assert.Equal(t, "auto", cfg.ConvAlgo)
	assert.True(t, cfg.Fuse)
	_, err = benchConfig(benchFlags{fuse: "maybe"})
	require.ErrorContains(t, err, `bench: --fuse "maybe": want true or false`)
	_, err = benchConfig(benchFlags{convAlgo: "fft"})
	require.ErrorContains(t, err, `conv_algo = "fft" is invalid`)
	out, _, err := execute(t, context.Background(), "bench", "--device", "ref", "--batch", "2", "--input-size", "65", "--width", "0.0625",
		"--skip", "cold,ceilings,kernels", "--runs", "1", "--warmup", "0", "--conv-algo", "winograd", "--fuse=false")
	require.NoError(t, err)
	assert.Contains(t, out, "convolutions (forward/backward-data/backward-filter): conv.0 gemm/gemm, conv.3 winograd/winograd/winograd, conv.6 winograd/winograd/winograd")
}
