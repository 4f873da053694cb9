package opencl

import "github.com/crossgrad/crossgrad/backend"

// The Winograd transforms run one work-item per tile (or filter), kernel
// block and channel, tiles along dimension 0, except the filter gradient's, whose
// buffers have the channel K fastest: winograd_dy runs (k, t) and
// winograd_dw (k, c). Their products are batched gemms of the tile engine.
func init() {
	n := func(v uint32) int { return int(v) }
	input := perGrid(func(p backend.WinogradInput) [3]int { return [3]int{p.Tiles(), n(p.Blocks() * p.C), 1} })
	registerLauncher(backend.KWinogradInput, func(d *Device, p backend.Params, bufs []*Buffer) error {
		return input(d, p, withMask(bufs, 2, 0))
	})
	registerLauncher(backend.KWinogradFilter, perGrid(func(p backend.WinogradFilter) [3]int {
		return [3]int{n(p.Blocks() * p.C), n(p.K), 1}
	}))
	registerLauncher(backend.KWinogradOutput, perGrid(func(p backend.WinogradOutput) [3]int {
		return [3]int{p.Tiles(), n(p.K), 1}
	}))
	dy := perGrid(func(p backend.WinogradDy) [3]int { return [3]int{n(p.K), p.Tiles(), 1} })
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
