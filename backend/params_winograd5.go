package backend

import "fmt"

// Winograd F(2x2,5x5) runs a 5x5 stride-1 convolution as one block: the
// same four dispatches as F(2x2,3x3) (see WinogradConv) over 6x6 input
// tiles (stride 2, overlapping by 4), so the Gemm is Batch 36, one product
// per element ξ = 6*i+j of a transformed tile, and its reduction is C, not
// the 4*C of the four 3x3 blocks: 36 multiplies per 2x2 output tile
// against 64 for the blocks and 100 for direct convolution. Its filter
// gradient is F(5x5,2x2) over the same tiles and the same input transform.
// The params of the five transforms say which one they run with K5: 0 is
// F(2x2,3x3) (blocks for kernels over 3x3), 1 is F(2x2,5x5) (R = S = 5).
// The matrices (interpolation points 0, ±1, ±2, ∞) are stated in
// backend/ref (winograd5.go); the planners choose K5 for every 5x5 layer.

// WinogradPoints5 is the 36 = 6^2 elements of an F(2x2,5x5) tile.
const WinogradPoints5 = 36

// winogradPoints is the number of elements of a transformed tile: 36 for
// K5 = 1, else 16.
func winogradPoints(k5 uint32) int {
	if k5 != 0 {
		return WinogradPoints5
	}
	return WinogradPoints
}

// WinogradBlocksAlong is the number of blocks along a kernel side of r: 1
// for K5 = 1 (the whole 5x5 kernel is one block), else WinogradBlocks(r).
func WinogradBlocksAlong(r, k5 uint32) uint32 {
	if k5 != 0 {
		return 1
	}
	return WinogradBlocks(r)
}

// winogradBlocksOf is Q, the number of blocks of an R x S kernel.
func winogradBlocksOf(r, s, k5 uint32) uint32 {
	return WinogradBlocksAlong(r, k5) * WinogradBlocksAlong(s, k5)
}

// winogradK5 checks a K5 flag against the kernel sides (for the params
// that know them: r = s = 0 skips that check).
func winogradK5(name string, k5, r, s uint32) error {
	if k5 > 1 {
		return fmt.Errorf("%s: K5 must be 0 or 1, got %d", name, k5)
	}
	if k5 == 1 && r != 0 && (r != 5 || s != 5) {
		return fmt.Errorf("%s: K5 (F(2x2,5x5)) takes a 5x5 kernel, got %dx%d", name, r, s)
	}
	return nil
}

// k5Tag is " F(2,5)" for K5 = 1, else "", for the Shape strings.
func k5Tag(k5 uint32) string {
	if k5 != 0 {
		return " F(2,5)"
	}
	return ""
}

// WinogradK5 is the K5 flag the planners choose for an R x S kernel: 1 for
// 5x5.
func WinogradK5(r, s uint32) uint32 {
	if r == 5 && s == 5 {
		return 1
	}
	return 0
}
