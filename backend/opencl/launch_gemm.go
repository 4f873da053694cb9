package opencl

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// tiling is one configuration TILE of the tile engine of
// shaders/opencl/gemm_tile.h, whose numbers are written here only: every
// tiled kernel (gemm and the three convolutions) is built once per tiling
// it runs with, the numbers passed as -D options (see defineList).
type tiling struct {
	name         string // names the configuration in messages and tests
	mwg, nwg     int    // output tile of a work-group: rows x columns
	kwg          int    // reduction slab depth
	mdimc, ndimc int    // work-group: rows of work-items x columns of work-items
	vw           int    // accumulator vector width: 2, 4, 8 or 16
	lvw          int    // vector width of whole-slab global loads: 2, 4, 8 or 16
	strided      bool   // rows and column vectors of a work-item strided by the work-group (GPUs), else contiguous (CPUs)
	cpu          bool   // the CPU bodies of the convolutions (x gathered by blocks; conv2d_fwd reads transposed weights)
}

var (
	// tilingGPU: 64x64 tiles, 16x16 work-items of 4x4 outputs each, rows
	// and float4 columns strided so that neighbouring work-items touch
	// neighbouring addresses.
	tilingGPU = tiling{name: "gpu", mwg: 64, nwg: 64, kwg: 16, mdimc: 16, ndimc: 16, vw: 4, lvw: 4, strided: true}
	// tilingCPU (PoCL runs a work-group as a loop over its work-items and
	// keeps each work-item's registers): 64x64 tiles, 8x2 work-items of
	// 8x32 outputs each (two float16 per row, which LLVM maps onto AVX-512
	// or pairs of AVX registers).
	tilingCPU = tiling{name: "cpu", mwg: 64, nwg: 64, kwg: 32, mdimc: 8, ndimc: 2, vw: 16, lvw: 16, cpu: true}
)

// tilings lists the configurations every tiled kernel runs with (tests run
// each on every device).
var tilings = []tiling{tilingGPU, tilingCPU}

// defineList is t as the macros gemm_tile.h requires.
func (t tiling) defineList() []define {
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	return []define{
		{"TILE_MWG", t.mwg}, {"TILE_NWG", t.nwg}, {"TILE_KWG", t.kwg},
		{"TILE_MDIMC", t.mdimc}, {"TILE_NDIMC", t.ndimc}, {"TILE_VW", t.vw}, {"TILE_LVW", t.lvw},
		{"TILE_STRIDED", b(t.strided)}, {"TILE_CPU", b(t.cpu)},
	}
}

// validate reports a tiling the tile engine cannot run (the requirements
// of gemm_tile.h).
func (t tiling) validate() error {
	vec := func(w int) bool { return w == 2 || w == 4 || w == 8 || w == 16 }
	switch {
	case t.mwg <= 0 || t.nwg <= 0 || t.kwg <= 0 || t.mdimc <= 0 || t.ndimc <= 0:
		return fmt.Errorf("opencl: tiling %s: sizes must be positive (%+v)", t.name, t)
	case !vec(t.vw) || !vec(t.lvw):
		return fmt.Errorf("opencl: tiling %s: vector widths vw=%d, lvw=%d must be 2, 4, 8 or 16", t.name, t.vw, t.lvw)
	case t.mwg%t.mdimc != 0 || t.nwg%(t.ndimc*t.vw) != 0:
		return fmt.Errorf("opencl: tiling %s: mwg=%d must be a multiple of mdimc=%d and nwg=%d of ndimc*vw=%d",
			t.name, t.mwg, t.mdimc, t.nwg, t.ndimc*t.vw)
	case t.kwg%t.lvw != 0 || t.mwg%t.lvw != 0 || t.nwg%t.lvw != 0:
		return fmt.Errorf("opencl: tiling %s: kwg=%d, mwg=%d and nwg=%d must be multiples of lvw=%d", t.name, t.kwg, t.mwg, t.nwg, t.lvw)
	}
	return nil
}

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
	name, err := d.tiledKernel(backend.KGemm, t)
	if err != nil {
		return err
	}
	global, local := t.global(int(q.M), int(q.N), 1)
	return d.enqueue(backend.KGemm, name, global, local, q, bufs[0], bufs[1], bufs[2])
}
