package opencl

import "github.com/crossgrad/crossgrad/backend"

// The Winograd transforms run one work-item per tile (or filter) and
// channel, tiles along dimension 0; their product is a batched gemm of
// the tile engine.
func init() {
	n := func(v uint32) int { return int(v) }
	registerLauncher(backend.KWinogradInput, perGrid(func(p backend.WinogradInput) [3]int {
		return [3]int{p.Tiles(), n(p.C), 1}
	}))
	registerLauncher(backend.KWinogradFilter, perGrid(func(p backend.WinogradFilter) [3]int {
		return [3]int{n(p.C), n(p.K), 1}
	}))
	registerLauncher(backend.KWinogradOutput, perGrid(func(p backend.WinogradOutput) [3]int {
		return [3]int{p.Tiles(), n(p.K), 1}
	}))
}
