package opencl

import "github.com/crossgrad/crossgrad/backend"

// The Winograd transforms: winograd_input runs (runs of winogradLanes
// tiles of a tile row, block and channel), winograd_output (runs, k),
// winograd_filter one work-item per filter (block and channel, k). The
// filter gradient's buffers have the channel K fastest: winograd_dy runs
// (winogradLanes channels, t) and winograd_dw (k, c). Their products are
// batched gemms of the tile engine.
func init() {
	n := func(v uint32) int { return int(v) }
	input := perGrid(func(p backend.WinogradInput) [3]int {
		return [3]int{tileRowRuns(p.N, p.OH, p.OW, p.F4), n(p.Blocks() * p.C), 1}
	})
	registerLauncher(backend.KWinogradInput, func(d *Device, p backend.Params, bufs []*Buffer) error {
		return input(d, p, withMask(bufs, 2, 0))
	})
	registerLauncher(backend.KWinogradFilter, perGrid(func(p backend.WinogradFilter) [3]int {
		return [3]int{n(p.Blocks() * p.C), n(p.K), 1}
	}))
	registerLauncher(backend.KWinogradOutput, perGrid(func(p backend.WinogradOutput) [3]int {
		return [3]int{tileRowRuns(p.N, p.OH, p.OW, p.F4), n(p.K), 1}
	}))
	dy := perGrid(func(p backend.WinogradDy) [3]int { return [3]int{lanesOver(p.K), p.Tiles(), 1} })
	registerLauncher(backend.KWinogradDy, func(d *Device, p backend.Params, bufs []*Buffer) error {
		return dy(d, p, withMask(bufs, 2, 0))
	})
	registerLauncher(backend.KWinogradDw, perGrid(func(p backend.WinogradDw) [3]int {
		return [3]int{n(p.K), n(p.Blocks() * p.C), 1}
	}))
}

// withMask is bufs with the ReLU output y of a kernel's MaskRelu as its
// argument at index i: bufs itself when y is there, else bufs[dy] in its
// place (the kernel reads it only with MaskRelu).
func withMask(bufs []*Buffer, i, dy int) []*Buffer {
	if len(bufs) > i {
		return bufs
	}
	return append(append([]*Buffer(nil), bufs...), bufs[dy])
}

// winogradLanes is the float vector width of one work-item of
// winograd_input, winograd_output (neighbouring tiles of one tile row) and
// winograd_dy (consecutive channels), WINOGRAD_LANES in their sources. It
// must be 4: the kernels hold float4 lanes.
const winogradLanes = 4

// lanesOver is the number of work-items that cover n elements, winogradLanes
// to each.
func lanesOver(n uint32) int { return int((n + winogradLanes - 1) / winogradLanes) }

// tileRowRuns is the number of work-items of winograd_input and
// winograd_output over the tiles of an OH x OW output of n images: every
// tile row of ceil(OW/m) tiles in runs of winogradLanes, m the tile side
// (4 with F4, else 2).
func tileRowRuns(n, oh, ow, f4 uint32) int {
	m := uint32(backend.WinogradTileSize)
	if f4 != 0 {
		m = backend.WinogradTileSize4
	}
	return int(n*((oh+m-1)/m)) * lanesOver((ow+m-1)/m)
}
