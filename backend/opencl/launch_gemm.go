package opencl

import (
	"github.com/crossgrad/crossgrad/backend"
)

// tiling mirrors one configuration of the tile engine in
// shaders/opencl/gemm_tile.h (the numbers must match): every tiled kernel
// (gemm and the three convolutions) exists once per configuration, the
// kernel name carrying suffix.
type tiling struct {
	suffix       string // kernel-name suffix of this configuration
	mwg, nwg     int    // output tile of a work-group: rows x columns
	kwg          int    // reduction slab depth
	mdimc, ndimc int    // work-group: rows of work-items x columns of work-items
}

var (
	// tilingGPU is TGG: 64x64 tiles, 16x16 work-items of 4x4 outputs.
	tilingGPU = tiling{suffix: "", mwg: 64, nwg: 64, kwg: 16, mdimc: 16, ndimc: 16}
	// tilingCPU is TGC: 64x64 tiles, 8x2 work-items of 8x32 outputs.
	tilingCPU = tiling{suffix: "_cpu", mwg: 64, nwg: 64, kwg: 32, mdimc: 8, ndimc: 2}
)

// tilings lists every configuration (tests run each on every device).
var tilings = []tiling{tilingGPU, tilingCPU}

// tiling picks the configuration for d: the CPU one for CPU devices (and
// devices whose work-groups cannot hold the GPU one), else the GPU one.
func (d *Device) tiling() tiling {
	if d.info.Type == backend.CPUDevice || d.info.MaxWorkGroupSize < tilingGPU.mdimc*tilingGPU.ndimc ||
		(d.info.LocalMemory > 0 && d.info.LocalMemory < uint64(4*tilingGPU.kwg*(tilingGPU.mwg+tilingGPU.nwg))) {
		return tilingCPU
	}
	return tilingGPU
}

// global is the NDRange of an m x n result (dimension 0 along the n
// columns), times splits in dimension 2 when splits > 1.
func (t tiling) global(m, n, splits int) (global, local []int) {
	global = []int{(n + t.nwg - 1) / t.nwg * t.ndimc, (m + t.mwg - 1) / t.mwg * t.mdimc}
	local = []int{t.ndimc, t.mdimc}
	if splits > 1 {
		global, local = append(global, splits), append(local, 1)
	}
	return global, local
}

func init() { registerLauncher(backend.KGemm, launchGemm) }

// launchGemm runs gemm with the device's tiling.
func launchGemm(d *Device, p backend.Params, bufs []*Buffer) error {
	q, err := paramsAs[backend.Gemm](p)
	if err != nil {
		return err
	}
	return d.gemmWith(d.tiling(), q, bufs)
}

// gemmWith runs gemm with tiling t. Args: params, A, B, C.
func (d *Device) gemmWith(t tiling, q backend.Gemm, bufs []*Buffer) error {
	global, local := t.global(int(q.M), int(q.N), 1)
	return d.enqueue(backend.KGemm, "gemm"+t.suffix, global, local, q, bufs[0], bufs[1], bufs[2])
}
