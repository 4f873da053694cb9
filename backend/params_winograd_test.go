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
	assert.Equal(t, backend.WinogradFilter{K: 384, C: 256, R: 3, S: 3}, pl.Filter)
	assert.Equal(t, backend.WinogradInput{N: 16, C: 256, H: 12, W: 12, PadH: 1, PadW: 1, R: 3, S: 3, OH: 12, OW: 12}, pl.Input)
	assert.Equal(t, backend.Gemm{M: 384, N: tiles, K: 256, Alpha: 1, Batch: 16}, pl.Gemm)
	assert.Equal(t, backend.WinogradOutput{N: 16, K: 384, OH: 12, OW: 12, Bias: 1}, pl.Output)
	assert.Equal(t, [3]int{16 * 384 * 256, 16 * 256 * tiles, 16 * 384 * tiles}, [3]int{pl.ULen, pl.VLen, pl.MLen})
	assert.Equal(t, []backend.Params{pl.Filter, pl.Input, pl.Gemm, pl.Output}, pl.Dispatches())
	assert.Equal(t, []int{g.XLen(), 16 * 256 * tiles}, pl.Input.BufferSizes())
	assert.Equal(t, []int{16 * 384 * tiles, 384, g.YLen()}, pl.Output.BufferSizes())
	assert.Equal(t, "N16 C256 12x12 p1 -> 6x6 tiles", pl.Input.Shape())

	bwd, ok := backend.WinogradConv(g, true)
	require.True(t, ok)
	assert.Equal(t, backend.WinogradFilter{K: 384, C: 256, R: 3, S: 3, BwdData: 1}, bwd.Filter)
	assert.Equal(t, backend.WinogradInput{N: 16, C: 384, H: 12, W: 12, PadH: 1, PadW: 1, R: 3, S: 3, OH: 12, OW: 12}, bwd.Input)
	assert.Equal(t, backend.Gemm{M: 256, N: tiles, K: 384, Alpha: 1, Batch: 16}, bwd.Gemm)
	assert.Equal(t, backend.WinogradOutput{N: 16, K: 256, OH: 12, OW: 12}, bwd.Output)
	assert.Equal(t, []int{16 * 256 * tiles, 1, g.XLen()}, bwd.Output.BufferSizes(), "b unread without bias")

	odd := backend.NewConv2DShape(2, 3, 7, 4, 5, 3, 3, 1, 0) // 5x2 output, padding 0
	pl, ok = backend.WinogradConv(odd, false)
	require.True(t, ok)
	assert.Equal(t, 2*3*1, pl.Input.Tiles())
	pl, ok = backend.WinogradConv(odd, true)
	require.True(t, ok)
	assert.Equal(t, backend.WinogradInput{N: 2, C: 5, H: 5, W: 2, PadH: 2, PadW: 2, R: 3, S: 3, OH: 7, OW: 4}, pl.Input,
		"the input gradient pads dy by 2-p")
	assert.Equal(t, 2*4*2, pl.Output.Tiles())

	for _, bad := range []struct {
		g   backend.Conv2DShape
		bwd bool
	}{
		{backend.NewConv2DShape(1, 1, 224, 224, 96, 11, 11, 4, 1), false},
		{backend.NewConv2DShape(2, 96, 26, 26, 256, 7, 7, 1, 3), false},
		{backend.NewConv2DShape(2, 96, 26, 26, 256, 1, 1, 1, 0), false},
		{backend.NewConv2DShape(2, 96, 26, 26, 256, 5, 2, 1, 0), false},
		{backend.NewConv2DShape(2, 3, 9, 9, 4, 5, 5, 1, 5), true},
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

// TestWinogradConvLargeKernel plans AlexNet's conv.3 (5x5, padding 2) at
// batch 16 as one F(2x2,5x5) block (36 products, reduction C), forward
// and backward, a 4x4 kernel as four 3x3 blocks in the Gemm's reduction
// and a 4x6 one as two blocks by two.
func TestWinogradConvLargeKernel(t *testing.T) {
	g := backend.NewConv2DShape(16, 96, 26, 26, 256, 5, 5, 1, 2)
	pl, ok := backend.WinogradConv(g, false)
	require.True(t, ok)
	const tiles = 16 * 13 * 13
	assert.Equal(t, backend.WinogradFilter{K: 256, C: 96, R: 5, S: 5, K5: 1}, pl.Filter)
	assert.Equal(t, backend.WinogradInput{N: 16, C: 96, H: 26, W: 26, PadH: 2, PadW: 2, R: 5, S: 5, OH: 26, OW: 26, K5: 1}, pl.Input)
	assert.Equal(t, backend.WinogradOutput{N: 16, K: 256, OH: 26, OW: 26, Bias: 1, K5: 1}, pl.Output)
	assert.Equal(t, uint32(1), pl.Input.Blocks(), "5x5 is one F(2x2,5x5) block")
	assert.Equal(t, 36, pl.Input.Points())
	assert.Equal(t, backend.Gemm{M: 256, N: tiles, K: 96, Alpha: 1, Batch: 36}, pl.Gemm)
	assert.Equal(t, [3]int{36 * 256 * 96, 36 * 96 * tiles, 36 * 256 * tiles}, [3]int{pl.ULen, pl.VLen, pl.MLen})
	assert.Equal(t, []int{g.WLen(), pl.ULen}, pl.Filter.BufferSizes())
	assert.Equal(t, []int{pl.MLen, 256, g.YLen()}, pl.Output.BufferSizes())
	assert.Equal(t, "N16 C96 26x26 k5 F(2,5) p2 -> 13x13 tiles", pl.Input.Shape())
	assert.Equal(t, "K256 C96 k5 F(2,5)", pl.Filter.Shape())
	assert.Equal(t, "N16 K256 F(2,5) -> 26x26 bias", pl.Output.Shape())

	bwd, ok := backend.WinogradConv(g, true)
	require.True(t, ok)
	assert.Equal(t, backend.WinogradInput{N: 16, C: 256, H: 26, W: 26, PadH: 2, PadW: 2, R: 5, S: 5, OH: 26, OW: 26, K5: 1}, bwd.Input)
	assert.Equal(t, backend.Gemm{M: 96, N: tiles, K: 256, Alpha: 1, Batch: 36}, bwd.Gemm)

	blocks := backend.NewConv2DShape(16, 96, 26, 26, 256, 4, 4, 1, 2)
	pl, ok = backend.WinogradConv(blocks, false)
	require.True(t, ok)
	assert.Equal(t, backend.WinogradFilter{K: 256, C: 96, R: 4, S: 4}, pl.Filter, "4x4 runs as 3x3 blocks")
	assert.Equal(t, uint32(4), pl.Input.Blocks())
	assert.Equal(t, backend.Gemm{M: 256, N: 16 * 14 * 14, K: 4 * 96, Alpha: 1, Batch: 16}, pl.Gemm)
	assert.Equal(t, "N16 C96 26x26 k4 p2 -> 14x14 tiles", pl.Input.Shape())

	rect := backend.Conv2DShape{N: 2, C: 3, H: 7, W: 8, K: 5, R: 4, S: 6, StrideH: 1, StrideW: 1, PadH: 1, PadW: 2, OH: 6, OW: 7}
	pl, ok = backend.WinogradConv(rect, true)
	require.True(t, ok)
	assert.Equal(t, backend.WinogradInput{N: 2, C: 5, H: 6, W: 7, PadH: 2, PadW: 3, R: 4, S: 6, OH: 7, OW: 8}, pl.Input,
		"the input gradient pads dy by R-1-p, S-1-p")
	assert.Equal(t, "K5 C3 k4x6 bwd_data", pl.Filter.Shape())
}

// TestWinogradKernelSides: the three kernels that read or write the
// filter take sides 3 to 6 and refuse the others by name.
func TestWinogradKernelSides(t *testing.T) {
	in := backend.WinogradInput{N: 1, C: 1, H: 9, W: 9, R: 5, S: 5, OH: 5, OW: 5}
	require.NoError(t, in.Validate())
	for _, rs := range [][2]uint32{{2, 3}, {3, 7}, {7, 7}, {0, 0}} {
		bad := in
		bad.R, bad.S = rs[0], rs[1]
		bad.OH, bad.OW = 9-rs[0]+1, 9-rs[1]+1
		assert.ErrorContains(t, bad.Validate(), "winograd_input: kernel", rs)
		assert.ErrorContains(t, backend.WinogradFilter{K: 1, C: 1, R: rs[0], S: rs[1]}.Validate(), "winograd_filter: kernel", rs)
		assert.ErrorContains(t, backend.WinogradDw{K: 1, C: 1, P: 1, R: rs[0], S: rs[1]}.Validate(), "winograd_dw: kernel", rs)
	}
	in.OH = 7
	assert.ErrorContains(t, in.Validate(), "winograd_input: output 7x5 does not follow from the geometry (want 5x5)")
	in = backend.WinogradInput{N: 1, C: 1, H: 3, W: 3, R: 5, S: 5, PadH: 0, PadW: 1, OH: 0, OW: 0}
	assert.ErrorContains(t, in.Validate(), "winograd_input: padded input 3x5 smaller than the 5x5 kernel")
	assert.EqualError(t, backend.WinogradRefusal(backend.NewConv2DShape(1, 1, 224, 224, 96, 11, 11, 4, 1), false),
		"11x11 stride 4: Winograd takes kernels 3x3 to 6x6 at stride 1 only")
	assert.NoError(t, backend.WinogradRefusal(backend.NewConv2DShape(2, 3, 9, 9, 4, 5, 5, 1, 5), false), "forward: any padding")
	assert.EqualError(t, backend.WinogradRefusal(backend.NewConv2DShape(2, 3, 9, 9, 4, 5, 5, 1, 5), true),
		"padding 5: the Winograd input gradient of a 5x5 kernel takes a padding of at most 4")
	assert.NoError(t, backend.WinogradRefusal(backend.NewConv2DShape(2, 3, 9, 9, 4, 5, 5, 1, 4), true))
	assert.Equal(t, []uint32{1, 2, 2, 2}, []uint32{backend.WinogradBlocks(3), backend.WinogradBlocks(4),
		backend.WinogradBlocks(5), backend.WinogradBlocks(6)})
}

// TestWinogradK5 checks the F(2x2,5x5) flag: only 0 or 1, only with a 5x5
// kernel where the params know it, chosen by WinogradK5 for 5x5 alone.
func TestWinogradK5(t *testing.T) {
	in := backend.WinogradInput{N: 1, C: 1, H: 9, W: 9, R: 5, S: 5, OH: 5, OW: 5, K5: 1}
	require.NoError(t, in.Validate())
	in.K5 = 2
	assert.ErrorContains(t, in.Validate(), "winograd_input: K5 must be 0 or 1, got 2")
	in = backend.WinogradInput{N: 1, C: 1, H: 9, W: 9, R: 3, S: 3, OH: 7, OW: 7, K5: 1}
	assert.ErrorContains(t, in.Validate(), "winograd_input: K5 (F(2x2,5x5)) takes a 5x5 kernel, got 3x3")
	assert.ErrorContains(t, backend.WinogradFilter{K: 1, C: 1, R: 5, S: 4, K5: 1}.Validate(), "winograd_filter: K5 (F(2x2,5x5)) takes a 5x5 kernel, got 5x4")
	assert.ErrorContains(t, backend.WinogradDw{K: 1, C: 1, P: 1, R: 6, S: 6, K5: 1}.Validate(), "winograd_dw: K5 (F(2x2,5x5)) takes a 5x5 kernel, got 6x6")
	assert.ErrorContains(t, backend.WinogradOutput{N: 1, K: 1, OH: 1, OW: 1, K5: 3}.Validate(), "winograd_output: K5 must be 0 or 1, got 3")
	assert.ErrorContains(t, backend.WinogradDy{N: 1, K: 1, OH: 1, OW: 1, K5: 3}.Validate(), "winograd_dy: K5 must be 0 or 1, got 3")
	assert.NoError(t, backend.WinogradDy{N: 1, K: 1, OH: 1, OW: 1, K5: 1}.Validate())
	assert.Equal(t, []uint32{0, 0, 1, 0, 0}, []uint32{backend.WinogradK5(3, 3), backend.WinogradK5(4, 4),
		backend.WinogradK5(5, 5), backend.WinogradK5(5, 4), backend.WinogradK5(6, 6)})
	assert.Equal(t, []int{16, 36}, []int{backend.WinogradDw{}.Points(), backend.WinogradDw{K5: 1}.Points()})
	assert.Equal(t, []uint32{2, 1, 1}, []uint32{backend.WinogradBlocksAlong(5, 0), backend.WinogradBlocksAlong(5, 1),
		backend.WinogradBlocksAlong(3, 0)})
}
