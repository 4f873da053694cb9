package backend

import "fmt"

// Winograd F(4x4,3x3) (Lavin and Gray's) runs the forward output or the
// input gradient of a 3x3 stride-1 convolution as the same four dispatches
// as F(2x2,3x3) (see WinogradConv) over 6x6 input tiles at stride 4
// (overlapping by 2), each tile 4x4 output pixels: the Gemm is Batch 36,
// and a tile costs 36 multiplies per channel pair against F(2x2,3x3)'s
// four tiles of 16 (64) and direct convolution's 144; kernels over 3x3 run
// as its 3x3 blocks (WinogradBlocks), as F(2x2,3x3)'s do. It shares
// F(2x2,5x5)'s interpolation points 0, ±1, ±2, ∞ and so its B^T; its G
// (6x3) and A^T (4x6) are stated in backend/ref (winograd4.go). The params
// of winograd_input, winograd_filter and winograd_output run it with F4 1
// (K5 0); WinogradConv4 plans it, and the planners choose it only where
// the tuner timed it faster than the other algorithms.

// WinogradTileSize4 is the output tile side of F(4x4,3x3).
const WinogradTileSize4 = 4

// winogradSide is the output tile side of the algorithm F4 names: 4, or
// WinogradTileSize.
func winogradSide(f4 uint32) uint32 {
	if f4 != 0 {
		return WinogradTileSize4
	}
	return WinogradTileSize
}

// WinogradTilesOf is the tile count N*ceil(OH/m)*ceil(OW/m) of tile side m
// = 4 with F4, else 2 (saturating as every buffer size does).
func WinogradTilesOf(n, oh, ow, f4 uint32) int {
	m := winogradSide(f4)
	return mul(n, (oh+m-1)/m, (ow+m-1)/m)
}

// tilesTag is "TH x TW tiles" of an oh x ow output at the tile side of f4.
func tilesTag(oh, ow, f4 uint32) string {
	m := winogradSide(f4)
	return fmt.Sprintf("%dx%d tiles", (oh+m-1)/m, (ow+m-1)/m)
}

// winogradF4 checks an F4 flag against K5 (a kernel over 3x3 runs as
// F(4x4,3x3) blocks as F(2x2,3x3)'s do; r and s are its sides, 0 where the
// params do not know them).
func winogradF4(name string, f4, k5, r, s uint32) error {
	switch {
	case f4 > 1:
		return fmt.Errorf("%s: F4 must be 0 or 1, got %d", name, f4)
	case f4 == 1 && k5 != 0:
		return fmt.Errorf("%s: F4 (F(4x4,3x3)) and K5 (F(2x2,5x5)) exclude each other", name)
	}
	return nil
}

// f4Tag is " F(4,3)" for F4 = 1, else "", for the Shape strings.
func f4Tag(f4 uint32) string {
	if f4 != 0 {
		return " F(4,3)"
	}
	return ""
}

// WinogradConv4 plans layer g's forward pass or, with backwardData, its
// input gradient as F(4x4,3x3) (as WinogradConv plans F(2x2,3x3)), a
// kernel over 3x3 (5x5 too) as F(4x4,3x3) 3x3 blocks summed in the Gemm's
// reduction: for AlexNet's 5x5 conv.3 four blocks of 36 products per 4x4
// tile, the 9 multiplies per output of F(2x2,5x5) with a quarter of its
// products to store and transform back. It reports false where
// WinogradConv does.
func WinogradConv4(g Conv2DShape, backwardData bool) (WinogradPlan, bool) {
	return winogradConv(g, backwardData, 1)
}
