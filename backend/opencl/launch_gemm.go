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
	kwg          int    // reduction slab depth (direct: unroll depth of the reduction loop)
	mdimc, ndimc int    // work-group: rows of work-items x columns of work-items
	vw           int    // accumulator vector width: 2, 4, 8 or 16
	lvw          int    // vector width of whole-slab global loads: 1, 2, 4, 8 or 16 (direct: 1)
	strided      bool   // rows and column vectors of a work-item strided by the work-group (GPUs), else contiguous (CPUs)
	cpu          bool   // the CPU bodies of the convolutions (x gathered by blocks; conv2d_fwd reads transposed weights)
	direct       bool   // gemm only: operands read from global memory into registers, no local memory, no barrier
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

// tilings are the two defaults by device type (tests run each on every
// device; the tuner's space is in tile_space.go).
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
		{"TILE_STRIDED", b(t.strided)}, {"TILE_CPU", b(t.cpu)}, {"TILE_DIRECT", b(t.direct)},
	}
}

// validate reports a tiling the tile engine cannot run (the requirements
// of gemm_tile.h shared by every tiled kernel).
func (t tiling) validate() error {
	vec := func(w int) bool { return w == 2 || w == 4 || w == 8 || w == 16 }
	switch {
	case t.mwg <= 0 || t.nwg <= 0 || t.kwg <= 0 || t.mdimc <= 0 || t.ndimc <= 0:
		return fmt.Errorf("opencl: tiling %s: sizes must be positive (%+v)", t.name, t)
	case !vec(t.vw) || !(t.lvw == 1 || vec(t.lvw)):
		return fmt.Errorf("opencl: tiling %s: vector widths vw=%d, lvw=%d must be 2, 4, 8 or 16 (lvw also 1)", t.name, t.vw, t.lvw)
	case t.mwg%t.mdimc != 0 || t.nwg%(t.ndimc*t.vw) != 0:
		return fmt.Errorf("opencl: tiling %s: mwg=%d must be a multiple of mdimc=%d and nwg=%d of ndimc*vw=%d",
			t.name, t.mwg, t.mdimc, t.nwg, t.ndimc*t.vw)
	case t.direct && t.lvw != 1:
		return fmt.Errorf("opencl: tiling %s: direct=1 copies no slabs: lvw=%d must be 1", t.name, t.lvw)
	case t.direct:
		return nil
	case t.kwg%t.lvw != 0 || t.mwg%t.lvw != 0 || t.nwg%t.lvw != 0:
		return fmt.Errorf("opencl: tiling %s: kwg=%d, mwg=%d and nwg=%d must be multiples of lvw=%d", t.name, t.kwg, t.mwg, t.nwg, t.lvw)
	case t.kwg%4 != 0 || t.mwg%4 != 0 || t.nwg%4 != 0:
		return fmt.Errorf("opencl: tiling %s: kwg=%d, mwg=%d and nwg=%d must be multiples of 4 (4x4 transposed copies)", t.name, t.kwg, t.mwg, t.nwg)
	}
	return nil
}

// localBytes is the local memory of t's slabs (none when direct).
func (t tiling) localBytes() uint64 {
	if t.direct {
		return 0
	}
	return uint64(4 * t.kwg * (t.mwg + t.nwg))
}

// tiling picks the configuration for d: the CPU one for CPU devices (and
// devices whose work-groups cannot hold the GPU one), else the GPU one.
func (d *Device) tiling() tiling {
	if d.info.Type == backend.CPUDevice || d.info.MaxWorkGroupSize < tilingGPU.mdimc*tilingGPU.ndimc ||
		(d.info.LocalMemory > 0 && d.info.LocalMemory < tilingGPU.localBytes()) {
		return tilingCPU
	}
	return tilingGPU
}

// global is the NDRange of an m x n result (dimension 0 along the n
// columns), times splits (split-K parts, stride phases or the products of
// a batched gemm) in dimension 2 when splits > 1.
func (t tiling) global(m, n, splits int) (global, local []int) {
	global = []int{(n + t.nwg - 1) / t.nwg * t.ndimc, (m + t.mwg - 1) / t.mwg * t.mdimc}
	local = []int{t.ndimc, t.mdimc}
	if splits > 1 {
		global, local = append(global, splits), append(local, 1)
	}
	return global, local
}

func init() { registerLauncher(backend.KGemm, launchGemm) }

// launchGemm runs gemm with the configuration of the device's table
// (SetTile), else the default one (the device's tiling).
func launchGemm(d *Device, p backend.Params, bufs []*Buffer) error {
	return d.runTile(d.tileFor(p), p, bufs)
}

// gemmWith runs gemm with tiling t, the products of a batch along
// dimension 2. Args: params, A, B, C.
func (d *Device) gemmWith(t tiling, q backend.Gemm, bufs []*Buffer) error {
	name, err := d.tiledKernel(backend.KGemm, t)
	if err != nil {
		return err
	}
	global, local := t.global(int(q.M), int(q.N), q.Batches())
	return d.enqueue(backend.KGemm, name, global, local, q, bufs[0], bufs[1], bufs[2])
}
