package backend_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// TestGemmBatch: Batch 0 and 1 are today's single product (same sizes,
// work and shape, so the same tuning key); Batch 16 is 16 products of
// contiguous operands, " b=16" in its shape; too large a batch is refused.
func TestGemmBatch(t *testing.T) {
	one := backend.Gemm{M: 3, N: 5, K: 7, TransB: 1, Alpha: 1}
	for _, b := range []uint32{0, 1} {
		p := one
		p.Batch = b
		assert.Equal(t, "M3 N5 K7 B^T", p.Shape())
		assert.Equal(t, []int{21, 35, 15}, p.BufferSizes())
		assert.Equal(t, one.Work(), p.Work())
		assert.Equal(t, 1, p.Batches())
		require.NoError(t, p.Validate())
	}
	p := one
	p.Batch = 16
	assert.Equal(t, "M3 N5 K7 B^T b=16", p.Shape())
	assert.NotEqual(t, backend.KeyOf(one), backend.KeyOf(p))
	assert.Equal(t, []int{16 * 21, 16 * 35, 16 * 15}, p.BufferSizes())
	assert.Equal(t, 16*one.Work().FLOP, p.Work().FLOP)
	assert.Equal(t, 16*one.Work().Bytes, p.Work().Bytes)
	p.Batch = backend.MaxGemmBatch + 1
	assert.ErrorContains(t, p.Validate(), "gemm: Batch 65536 exceeds the limit of 65535")
}

// TestWinogradConv plans AlexNet's conv.6 at batch 16 forward and
// backward, odd planes, and refuses the layers F(2x2,3x3) cannot run.
func TestWinogradConv(t *testing.T) {
	g := backend.NewConv2DShape(16, 256, 12, 12, 384, 3, 3, 1, 1)
	pl, ok := backend.WinogradConv(g, false)
	require.True(t, ok)
	const tiles = 16 * 6 * 6
	assert.Equal(t, backend.WinogradFilter{K: 384, C: 256}, pl.Filter)
	assert.Equal(t, backend.WinogradInput{N: 16, C: 256, H: 12, W: 12, PadH: 1, PadW: 1, OH: 12, OW: 12}, pl.Input)
	assert.Equal(t, backend.Gemm{M: 384, N: tiles, K: 256, Alpha: 1, Batch: 16}, pl.Gemm)
	assert.Equal(t, backend.WinogradOutput{N: 16, K: 384, OH: 12, OW: 12, Bias: 1}, pl.Output)
	assert.Equal(t, [3]int{16 * 384 * 256, 16 * 256 * tiles, 16 * 384 * tiles}, [3]int{pl.ULen, pl.VLen, pl.MLen})
	assert.Equal(t, []backend.Params{pl.Filter, pl.Input, pl.Gemm, pl.Output}, pl.Dispatches())
	assert.Equal(t, []int{g.XLen(), 16 * 256 * tiles}, pl.Input.BufferSizes())
	assert.Equal(t, []int{16 * 384 * tiles, 384, g.YLen()}, pl.Output.BufferSizes())
	assert.Equal(t, "N16 C256 12x12 p1 -> 6x6 tiles", pl.Input.Shape())

	bwd, ok := backend.WinogradConv(g, true)
	require.True(t, ok)
	assert.Equal(t, backend.WinogradFilter{K: 384, C: 256, BwdData: 1}, bwd.Filter)
	assert.Equal(t, backend.WinogradInput{N: 16, C: 384, H: 12, W: 12, PadH: 1, PadW: 1, OH: 12, OW: 12}, bwd.Input)
	assert.Equal(t, backend.Gemm{M: 256, N: tiles, K: 384, Alpha: 1, Batch: 16}, bwd.Gemm)
	assert.Equal(t, backend.WinogradOutput{N: 16, K: 256, OH: 12, OW: 12}, bwd.Output)
	assert.Equal(t, []int{16 * 256 * tiles, 1, g.XLen()}, bwd.Output.BufferSizes(), "b unread without bias")

	odd := backend.NewConv2DShape(2, 3, 7, 4, 5, 3, 3, 1, 0) // 5x2 output, padding 0
	pl, ok = backend.WinogradConv(odd, false)
	require.True(t, ok)
	assert.Equal(t, 2*3*1, pl.Input.Tiles())
	pl, ok = backend.WinogradConv(odd, true)
	require.True(t, ok)
	assert.Equal(t, backend.WinogradInput{N: 2, C: 5, H: 5, W: 2, PadH: 2, PadW: 2, OH: 7, OW: 4}, pl.Input,
		"the input gradient pads dy by 2-p")
	assert.Equal(t, 2*4*2, pl.Output.Tiles())

	for _, bad := range []struct {
		g   backend.Conv2DShape
		bwd bool
	}{
		{backend.NewConv2DShape(1, 1, 224, 224, 96, 11, 11, 4, 1), false},
		{backend.NewConv2DShape(2, 96, 26, 26, 256, 5, 5, 1, 2), false},
		{backend.NewConv2DShape(2, 3, 9, 9, 4, 3, 3, 2, 1), false},
		{backend.NewConv2DShape(2, 3, 9, 9, 4, 3, 3, 1, 3), true},
		{backend.Conv2DShape{N: 1, C: 1, H: 5, W: 5, K: 1, R: 3, S: 3, StrideH: 1, StrideW: 1, OH: 4, OW: 3}, false},
	} {
		_, ok := backend.WinogradConv(bad.g, bad.bwd)
		assert.False(t, ok, "%s backward data %v", bad.g.Shape(), bad.bwd)
	}
	_, ok = backend.WinogradConv(backend.NewConv2DShape(2, 3, 9, 9, 4, 3, 3, 1, 3), false)
	assert.True(t, ok, "the forward pass admits any padding")
}
