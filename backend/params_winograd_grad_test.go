package backend_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// TestWinogradGrad plans AlexNet's conv.6 filter gradient at batch 16 and
// an odd, unpadded layer as F(3x3,2x2), and refuses the layers it cannot
// run.
func TestWinogradGrad(t *testing.T) {
	g := backend.NewConv2DShape(16, 256, 12, 12, 384, 3, 3, 1, 1)
	pl, ok := backend.WinogradGrad(g)
	require.True(t, ok)
	const tiles = 16 * 6 * 6
	assert.Equal(t, backend.WinogradInput{N: 16, C: 256, H: 12, W: 12, PadH: 1, PadW: 1, R: 3, S: 3, OH: 12, OW: 12}, pl.Input)
	assert.Equal(t, backend.WinogradDy{N: 16, K: 384, OH: 12, OW: 12}, pl.Dy)
	assert.Equal(t, backend.Gemm{M: 256, N: 384, K: tiles, Alpha: 1, Batch: 16}, pl.Gemm)
	assert.Equal(t, backend.WinogradDw{K: 384, C: 256, P: tiles, R: 3, S: 3}, pl.Output)
	assert.Equal(t, [3]int{16 * 256 * tiles, 16 * tiles * 384, 16 * 256 * 384}, [3]int{pl.VLen, pl.ELen, pl.MLen})
	assert.Equal(t, []backend.Params{pl.Input, pl.Dy, pl.Gemm, pl.Output}, pl.Dispatches())
	assert.Equal(t, []int{g.XLen(), pl.VLen}, pl.Input.BufferSizes())
	assert.Equal(t, []int{g.YLen(), pl.ELen}, pl.Dy.BufferSizes())
	assert.Equal(t, []int{pl.MLen, pl.ELen, g.WLen(), 384}, pl.Output.BufferSizes())
	assert.Equal(t, tiles, pl.Dy.Tiles())

	odd := backend.NewConv2DShape(3, 5, 7, 4, 6, 3, 3, 1, 0) // 5x2 output: partial tiles
	pl, ok = backend.WinogradGrad(odd)
	require.True(t, ok)
	assert.Equal(t, backend.WinogradDy{N: 3, K: 6, OH: 5, OW: 2}, pl.Dy)
	assert.Equal(t, 3*3*1, pl.Dy.Tiles())
	assert.Equal(t, backend.Gemm{M: 5, N: 6, K: 9, Alpha: 1, Batch: 16}, pl.Gemm)
	assert.Equal(t, backend.WinogradDw{K: 6, C: 5, P: 9, R: 3, S: 3}, pl.Output)
	_, ok = backend.WinogradGrad(backend.NewConv2DShape(2, 3, 9, 9, 4, 3, 3, 1, 3))
	assert.True(t, ok, "the filter gradient admits any padding")

	for _, bad := range []backend.Conv2DShape{
		backend.NewConv2DShape(1, 1, 224, 224, 96, 11, 11, 4, 1),
		backend.NewConv2DShape(2, 96, 26, 26, 256, 7, 7, 1, 3),
		backend.NewConv2DShape(2, 3, 9, 9, 4, 3, 3, 2, 1),
		{N: 1, C: 1, H: 5, W: 5, K: 1, R: 3, S: 3, StrideH: 1, StrideW: 1, OH: 4, OW: 3},
		// E = 16 * (64*32*32 tiles) * 4096 channels exceeds MaxElements;
		// x, dy and dw do not.
		backend.NewConv2DShape(64, 512, 64, 64, 4096, 3, 3, 1, 1),
	} {
		_, ok := backend.WinogradGrad(bad)
		assert.False(t, ok, bad.Shape())
	}
	conv3 := backend.NewConv2DShape(16, 96, 26, 26, 256, 5, 5, 1, 2)
	pl, ok = backend.WinogradGrad(conv3)
	require.True(t, ok, "5x5 runs as one F(5x5,2x2) block")
	const tiles5 = 16 * 13 * 13
	assert.Equal(t, backend.WinogradInput{N: 16, C: 96, H: 26, W: 26, PadH: 2, PadW: 2, R: 5, S: 5, OH: 26, OW: 26, K5: 1}, pl.Input)
	assert.Equal(t, backend.WinogradDy{N: 16, K: 256, OH: 26, OW: 26, K5: 1}, pl.Dy)
	assert.Equal(t, backend.Gemm{M: 96, N: 256, K: tiles5, Alpha: 1, Batch: 36}, pl.Gemm)
	assert.Equal(t, backend.WinogradDw{K: 256, C: 96, P: tiles5, R: 5, S: 5, K5: 1}, pl.Output)
	assert.Equal(t, [3]int{36 * 96 * tiles5, 36 * tiles5 * 256, 36 * 96 * 256}, [3]int{pl.VLen, pl.ELen, pl.MLen})
	assert.Equal(t, []int{pl.MLen, pl.ELen, conv3.WLen(), 256}, pl.Output.BufferSizes())
	assert.Equal(t, "K256 C96 k5 F(2,5) from 2704 tiles", pl.Output.Shape())
	assert.Equal(t, "N16 K256 26x26 F(2,5) -> 13x13 tiles", pl.Dy.Shape())
	blocks := backend.NewConv2DShape(2, 3, 8, 9, 4, 4, 6, 1, 2)
	pl, ok = backend.WinogradGrad(blocks)
	require.True(t, ok, "4x6 runs as 3x3 blocks")
	assert.Equal(t, uint32(0), pl.Input.K5)
	assert.Equal(t, backend.Gemm{M: 4 * 3, N: 4, K: 2 * 5 * 4, Alpha: 1, Batch: 16}, pl.Gemm)
	big := backend.NewConv2DShape(64, 512, 64, 64, 4096, 3, 3, 1, 1)
	assert.LessOrEqual(t, max(big.XLen(), big.YLen(), big.WLen()), backend.MaxElements)
	assert.Greater(t, 16*64*32*32*4096, backend.MaxElements)
}

// TestWinogradDyDw: the two transforms' buffers (y only with MaskRelu),
// Validate errors and Shape strings.
func TestWinogradDyDw(t *testing.T) {
	dy := backend.WinogradDy{N: 8, K: 384, OH: 12, OW: 12}
	require.NoError(t, dy.Validate())
	assert.Equal(t, backend.KWinogradDy, dy.Kernel())
	assert.Equal(t, "N8 K384 12x12 -> 6x6 tiles", dy.Shape())
	assert.Equal(t, "N2 K3 7x9 -> 4x5 tiles", backend.WinogradDy{N: 2, K: 3, OH: 7, OW: 9}.Shape())
	assert.Len(t, dy.Buffers(), 2)
	masked := dy
	masked.MaskRelu = 1
	require.NoError(t, masked.Validate())
	assert.Equal(t, []int{8 * 384 * 144, 16 * 8 * 36 * 384, 8 * 384 * 144}, masked.BufferSizes())
	assert.Equal(t, "y", masked.Buffers()[2].Name)
	assert.Equal(t, 4*float64(2*8*384*144+16*8*36*384), masked.Work().Bytes)
	masked.MaskRelu = 2
	assert.ErrorContains(t, masked.Validate(), "winograd_dy: MaskRelu must be 0 or 1, got 2")
	for _, bad := range []backend.WinogradDy{{K: 1, OH: 1, OW: 1}, {N: 1, OH: 1, OW: 1}, {N: 1, K: 1, OW: 1}, {N: 1, K: 1, OH: 1}} {
		assert.ErrorContains(t, bad.Validate(), "winograd_dy: N, K, OH, OW must be positive")
	}

	dw := backend.WinogradDw{K: 384, C: 256, P: 4608, R: 3, S: 3}
	require.NoError(t, dw.Validate())
	assert.Equal(t, backend.KWinogradDw, dw.Kernel())
	assert.Equal(t, "K384 C256 from 4608 tiles", dw.Shape())
	assert.Equal(t, []string{"M", "E", "dw", "db"}, bufferNames(dw.Buffers()))
	assert.Equal(t, 4*float64(16*256*384+4608*384+384*256*9+384), dw.Work().Bytes, "E[5] alone is read")
	for _, bad := range []backend.WinogradDw{{C: 1, P: 1}, {K: 1, P: 1}, {K: 1, C: 1}} {
		assert.ErrorContains(t, bad.Validate(), "winograd_dw: K, C, P must be positive")
	}
}

func bufferNames(bufs []backend.Buf) []string {
	out := make([]string, len(bufs))
	for i, b := range bufs {
		out[i] = b.Name
	}
	return out
}
