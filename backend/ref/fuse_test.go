package ref

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/internal/testutil"
)

// TestFusedReluEqualsTwoPasses checks that conv2d_fwd and bias_add with
// Relu write exactly what the plain kernel followed by relu_fwd writes.
func TestFusedReluEqualsTwoPasses(t *testing.T) {
	rng := testutil.NewRNG(7)
	g := backend.NewConv2DShape(2, 3, 7, 6, 5, 3, 3, 2, 1)
	x, w, b := testutil.RandSlice(rng, g.XLen()), testutil.RandSlice(rng, g.WLen()), testutil.RandSlice(rng, int(g.K))
	want, got := make([]float32, g.YLen()), make([]float32, g.YLen())
	Conv2DFwd(backend.Conv2DFwd{Conv2DShape: g}, x, w, b, want)
	negative := 0
	for _, v := range want {
		if v < 0 {
			negative++
		}
	}
	require.Positive(t, negative, "some outputs are clamped")
	ReluFwd(backend.ReluFwd{N: uint32(len(want))}, want, want)
	Conv2DFwd(backend.Conv2DFwd{Conv2DShape: g, Relu: 1}, x, w, b, got)
	assert.Equal(t, want, got)

	y := testutil.RandSlice(rng, 4*9)
	bias := testutil.RandSlice(rng, 9)
	want, got = append([]float32(nil), y...), append([]float32(nil), y...)
	BiasAdd(backend.BiasAdd{Rows: 4, Cols: 9}, want, bias)
	ReluFwd(backend.ReluFwd{N: uint32(len(want))}, want, want)
	BiasAdd(backend.BiasAdd{Rows: 4, Cols: 9, Relu: 1}, got, bias)
	assert.Equal(t, want, got)
	assert.Contains(t, got, float32(0))
}

// TestFusedWinogradReluEqualsTwoPasses checks that winograd_output with Relu
// writes exactly what the plain transform followed by relu_fwd writes.
func TestFusedWinogradReluEqualsTwoPasses(t *testing.T) {
	rng := testutil.NewRNG(8)
	p := backend.WinogradOutput{N: 2, K: 3, OH: 7, OW: 5, Bias: 1}
	m, b := testutil.RandSlice(rng, p.BufferSizes()[0]), testutil.RandSlice(rng, int(p.K))
	n := p.BufferSizes()[2]
	want, got := make([]float32, n), make([]float32, n)
	WinogradOutput(p, m, b, want)
	ReluFwd(backend.ReluFwd{N: uint32(n)}, want, want)
	p.Relu = 1
	WinogradOutput(p, m, b, got)
	assert.Equal(t, want, got)
	assert.Contains(t, got, float32(0))
	assert.Error(t, backend.WinogradOutput{N: 1, K: 1, OH: 1, OW: 1, Relu: 2}.Validate())
}

// TestMaskedBiasGradEqualsReluBwdThenBiasGrad checks that bias_grad with
// MaskRelu writes relu_bwd's dy and the sums of the unfused pair bit for
// bit, -0 and NaN included.
func TestMaskedBiasGradEqualsReluBwdThenBiasGrad(t *testing.T) {
	rng := testutil.NewRNG(9)
	rows, cols := 5, 3
	dy, y := testutil.RandSlice(rng, rows*cols), testutil.RandSlice(rng, rows*cols)
	nan := float32(math.NaN())
	dy[0], dy[1], y[2], y[3], y[4] = float32(math.Copysign(0, -1)), nan, nan, float32(math.Copysign(0, -1)), 0
	y[0], y[1] = 1, 1
	want, got := append([]float32(nil), dy...), append([]float32(nil), dy...)
	wantDB, gotDB := make([]float32, cols), make([]float32, cols)
	require.NoError(t, Run(backend.ReluBwd{N: uint32(rows * cols)}, y, want, want))
	require.NoError(t, Run(backend.BiasGrad{Rows: uint32(rows), Cols: uint32(cols)}, want, wantDB))
	require.NoError(t, Run(backend.BiasGrad{Rows: uint32(rows), Cols: uint32(cols), MaskRelu: 1}, got, gotDB, y))
	assert.Equal(t, bitsOf(want), bitsOf(got))
	assert.Equal(t, bitsOf(wantDB), bitsOf(gotDB))
	assert.True(t, math.Signbit(float64(got[0])), "-0 kept where y > 0")
	assert.Zero(t, got[2], "a NaN y masks")
	assert.Error(t, Run(backend.BiasGrad{Rows: 1, Cols: 1, MaskRelu: 1}, got[:1], gotDB[:1]), "y missing")
}

func bitsOf(x []float32) []uint32 {
	out := make([]uint32, len(x))
	for i, v := range x {
		out[i] = math.Float32bits(v)
	}
	return out
}

// TestMaskedConvBackwardEqualsReluBwdFirst checks that conv2d_bwd_data,
// conv2d_bwd_filter and winograd_input with MaskRelu write exactly what
// relu_bwd followed by the plain kernel writes, and leave dy as it is.
func TestMaskedConvBackwardEqualsReluBwdFirst(t *testing.T) {
	rng := testutil.NewRNG(10)
	g := backend.NewConv2DShape(2, 3, 6, 5, 4, 3, 3, 1, 1)
	x, w := testutil.RandSlice(rng, g.XLen()), testutil.RandSlice(rng, g.WLen())
	dy, y := testutil.RandSlice(rng, g.YLen()), testutil.RandSlice(rng, g.YLen())
	orig := append([]float32(nil), dy...)
	masked := make([]float32, g.YLen())
	require.NoError(t, Run(backend.ReluBwd{N: uint32(g.YLen())}, y, dy, masked))
	require.NotEqual(t, bitsOf(dy), bitsOf(masked), "some gradients masked")

	want, got := make([]float32, g.XLen()), make([]float32, g.XLen())
	require.NoError(t, Run(backend.Conv2DBwdData{Conv2DShape: g}, masked, w, want))
	require.NoError(t, Run(backend.Conv2DBwdData{Conv2DShape: g, MaskRelu: 1}, dy, w, got, y))
	assert.Equal(t, bitsOf(want), bitsOf(got), "conv2d_bwd_data")

	wantW, wantB := make([]float32, g.WLen()), make([]float32, g.K)
	gotW, gotB := make([]float32, g.WLen()), make([]float32, g.K)
	require.NoError(t, Run(backend.Conv2DBwdFilter{Conv2DShape: g}, x, masked, wantW, wantB))
	require.NoError(t, Run(backend.Conv2DBwdFilter{Conv2DShape: g, MaskRelu: 1}, x, dy, gotW, gotB, y))
	assert.Equal(t, bitsOf(wantW), bitsOf(gotW), "conv2d_bwd_filter dw")
	assert.Equal(t, bitsOf(wantB), bitsOf(gotB), "conv2d_bwd_filter db")

	pl, ok := backend.WinogradConv(g, true)
	require.True(t, ok)
	in := pl.Input
	wantV, gotV := make([]float32, pl.VLen), make([]float32, pl.VLen)
	require.NoError(t, Run(in, masked, wantV))
	in.MaskRelu = 1
	require.NoError(t, Run(in, dy, gotV, y))
	assert.Equal(t, bitsOf(wantV), bitsOf(gotV), "winograd_input")
	assert.Equal(t, bitsOf(orig), bitsOf(dy), "dy unchanged")
	assert.Error(t, backend.Conv2DBwdData{Conv2DShape: g, MaskRelu: 2}.Validate())
	assert.Error(t, backend.Conv2DBwdFilter{Conv2DShape: g, MaskRelu: 2}.Validate())
	assert.Error(t, Run(backend.Conv2DBwdData{Conv2DShape: g, MaskRelu: 1}, dy, w, got), "y missing")
}
