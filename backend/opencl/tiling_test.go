package opencl

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// Odd tilings: tile sizes that are no power of two, small work-groups, one
// with the GPU bodies and one with the CPU bodies.
var (
	tilingOddGPU = tiling{name: "odd_gpu", mwg: 24, nwg: 40, kwg: 8, mdimc: 4, ndimc: 2, vw: 4, lvw: 4, strided: true}
	tilingOddCPU = tiling{name: "odd_cpu", mwg: 24, nwg: 32, kwg: 8, mdimc: 4, ndimc: 2, vw: 16, lvw: 8, cpu: true}
)

// TestTiledSourcesAreListed checks that exactly the .cl files including
// gemm_tile.h are tiledKernels, that each defines only its own kernel, and
// that the device program leaves them out.
func TestTiledSourcesAreListed(t *testing.T) {
	fsys := openCLSources()
	names, err := fs.Glob(fsys, "*.cl")
	require.NoError(t, err)
	found := map[backend.Kernel]bool{}
	for _, n := range names {
		src, err := fs.ReadFile(fsys, n)
		require.NoError(t, err)
		k := backend.Kernel(strings.TrimSuffix(n, ".cl"))
		tiled := strings.Contains(string(src), `#include "gemm_tile.h"`)
		assert.Equal(t, tiled, tiledKernels[k], "%s includes gemm_tile.h: %v", n, tiled)
		if tiled {
			found[k] = true
			assert.Equal(t, []string{string(k)}, dedup(kernelNames(string(src))), "%s defines only kernel %s", n, k)
		}
	}
	assert.Len(t, found, len(tiledKernels))
	prog, err := programSource(fsys)
	require.NoError(t, err)
	assert.NotContains(t, prog, "gemm_tile.h")
	for k := range tiledKernels {
		assert.NotContains(t, kernelNames(prog), string(k))
	}
}

func dedup(names []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// TestTiledBuildNeedsEveryDefine builds each tiled kernel without its -D
// options, and gemm without each one in turn: the build fails naming the
// missing macro. So do the device program's sources without the
// work-group sizes.
func TestTiledBuildNeedsEveryDefine(t *testing.T) {
	d := openTest(t)
	buildErr := func(k backend.Kernel, options string) *Error {
		t.Helper()
		kern, err := buildKernel(d.ctx, d.dev, d.info.Name, openCLSources(), k, options)
		require.Error(t, err, "%s with %q", k, options)
		assert.Nil(t, kern)
		var clErr *Error
		require.True(t, errors.As(err, &clErr), "%v", err)
		assert.Equal(t, -11, clErr.Code)
		return clErr
	}
	defs := tilingCPU.defineList()
	require.Len(t, defs, 10)
	for k := range tiledKernels {
		log := buildErr(k, buildOptions).Log
		for _, def := range defs {
			assert.Contains(t, log, def.name+" must be set by the host (-D)", "%s", k)
		}
	}
	for i, def := range defs {
		rest := append(append([]define{}, defs[:i]...), defs[i+1:]...)
		log := buildErr(backend.KGemm, buildOptions+defineOptions(rest)).Log
		assert.Contains(t, log, def.name+" must be set by the host (-D)")
		for _, other := range rest {
			assert.NotContains(t, log, other.name+" must be set", "only %s is missing", def.name)
		}
	}

	src, err := programSource(openCLSources())
	require.NoError(t, err)
	_, err = buildProgram(d.ctx, d.dev, d.info.Name, src, buildOptions)
	var clErr *Error
	require.True(t, errors.As(err, &clErr), "%v", err)
	for _, def := range groupDefines() {
		assert.Contains(t, clErr.Log, def.name+" must be set by the host (-D)")
	}
	assert.Contains(t, optionsFor(d.dev), fmt.Sprintf("-D SOFTMAX_XENT_GROUP=%d -D COUNT_NONFINITE_GROUP=%d", softmaxGroup, countNonfiniteGroup))
}

// TestTiledKernelSeesGoNumbers builds a probe kernel that stores the
// macros of gemm_tile.h as the tiling's -D options set them, for every
// tiling.
func TestTiledKernelSeesGoNumbers(t *testing.T) {
	d := openTest(t)
	header, err := fs.ReadFile(openCLSources(), "gemm_tile.h")
	require.NoError(t, err)
	probe := "#include \"gemm_tile.h\"\n__kernel void tile_probe(__global float* out) {\n" +
		"    const int v[] = {TILE_MWG, TILE_NWG, TILE_KWG, TILE_MDIMC, TILE_NDIMC, TILE_VW, TILE_LVW,\n" +
		"                     TILE_STRIDED, TILE_CPU, TILE_DIRECT, TL_WPTM(TILE), TL_NVEC(TILE), TL_WGS(TILE)};\n" +
		"    for (int i = 0; i < 13; i++) out[i] = (float)v[i];\n}\n"
	fsys := fstest.MapFS{"gemm_tile.h": {Data: header}, "tile_probe.cl": {Data: []byte(probe)}}
	out, err := d.Alloc(13)
	require.NoError(t, err)
	for _, tl := range append(namedTilings(), tilingOddGPU, tilingOddCPU) {
		kern, err := buildKernel(d.ctx, d.dev, d.info.Name, fsys, "tile_probe", optionsFor(d.dev)+defineOptions(tl.defineList()))
		require.NoError(t, err, tl.name)
		key := "tile_probe " + tl.name
		d.kernels[key] = kern // released by Close
		require.NoError(t, d.enqueue(backend.KGemm, key, []int{1}, nil, out.(*Buffer)))
		got := make([]float32, 13)
		require.NoError(t, d.Read(out, 0, got))
		b := func(v bool) float32 {
			if v {
				return 1
			}
			return 0
		}
		want := []float32{float32(tl.mwg), float32(tl.nwg), float32(tl.kwg), float32(tl.mdimc), float32(tl.ndimc),
			float32(tl.vw), float32(tl.lvw), b(tl.strided), b(tl.cpu), b(tl.direct),
			float32(tl.mwg / tl.mdimc), float32(tl.nwg / (tl.ndimc * tl.vw)), float32(tl.mdimc * tl.ndimc)}
		assert.Equal(t, want, got, tl.name)
	}
}

// TestTiledKernelCache checks that a kernel is built once per tiling and
// device, and that non-tiled kernels and bad tilings are refused.
func TestTiledKernelCache(t *testing.T) {
	d := openTest(t)
	n := len(d.kernels)
	k1, err := d.tiledKernel(backend.KGemm, tilingOddGPU)
	require.NoError(t, err)
	assert.Equal(t, "gemm"+defineOptions(tilingOddGPU.defineList()), k1)
	k2, err := d.tiledKernel(backend.KGemm, tilingOddGPU)
	require.NoError(t, err)
	assert.Equal(t, k1, k2)
	assert.Len(t, d.kernels, n+1)
	k3, err := d.tiledKernel(backend.KGemm, tilingOddCPU)
	require.NoError(t, err)
	assert.NotEqual(t, k1, k3)
	assert.Len(t, d.kernels, n+2)

	_, err = d.tiledKernel(backend.KFill, tilingCPU)
	assert.EqualError(t, err, "opencl: fill is not a tiled kernel")
	bad := tilingOddCPU
	bad.vw = 3
	_, err = d.tiledKernel(backend.KGemm, bad)
	assert.EqualError(t, err, "opencl: tiling odd_cpu: vector widths vw=3, lvw=8 must be 2, 4, 8 or 16 (lvw also 1)")
	assert.Len(t, d.kernels, n+2)
}

// TestTilingValidate checks the requirements of gemm_tile.h on the
// tilings of the space and the errors for broken ones.
func TestTilingValidate(t *testing.T) {
	for _, tl := range append(namedTilings(), tilingOddGPU, tilingOddCPU) {
		assert.NoError(t, tl.validate(), tl.name)
	}
	bad := func(edit func(*tiling)) error {
		tl := tilingOddGPU
		edit(&tl)
		return tl.validate()
	}
	assert.EqualError(t, bad(func(tl *tiling) { tl.kwg = 0 }), "opencl: tiling odd_gpu: sizes must be positive "+
		"({name:odd_gpu mwg:24 nwg:40 kwg:0 mdimc:4 ndimc:2 vw:4 lvw:4 strided:true cpu:false direct:false})")
	assert.EqualError(t, bad(func(tl *tiling) { tl.mdimc = 5 }),
		"opencl: tiling odd_gpu: mwg=24 must be a multiple of mdimc=5 and nwg=40 of ndimc*vw=8")
	assert.EqualError(t, bad(func(tl *tiling) { tl.ndimc = 4 }),
		"opencl: tiling odd_gpu: mwg=24 must be a multiple of mdimc=4 and nwg=40 of ndimc*vw=16")
	assert.EqualError(t, bad(func(tl *tiling) { tl.lvw = 16 }),
		"opencl: tiling odd_gpu: kwg=8, mwg=24 and nwg=40 must be multiples of lvw=16")
	assert.EqualError(t, bad(func(tl *tiling) { tl.lvw = 3 }),
		"opencl: tiling odd_gpu: vector widths vw=4, lvw=3 must be 2, 4, 8 or 16 (lvw also 1)")
	assert.EqualError(t, bad(func(tl *tiling) { tl.lvw, tl.kwg = 2, 6 }),
		"opencl: tiling odd_gpu: kwg=6, mwg=24 and nwg=40 must be multiples of 4 (4x4 transposed copies)")
	assert.EqualError(t, bad(func(tl *tiling) { tl.direct = true }),
		"opencl: tiling odd_gpu: direct=1 copies no slabs: lvw=4 must be 1")
	assert.NoError(t, bad(func(tl *tiling) { tl.direct, tl.lvw, tl.kwg = true, 1, 3 }), "direct: kwg is an unroll depth")
}

// TestOddTilingsMatchRef runs gemm with both odd tilings and the three
// convolutions with the CPU one (the bodies PoCL runs): the kernels follow
// the numbers Go passes, whatever they are.
func TestOddTilingsMatchRef(t *testing.T) {
	d := openTileTest(t)
	rng := rand.New(rand.NewSource(11))
	shapes := [][3]int{{1, 1, 1}, {45, 1, 19}, {67, 131, 45}, {5, 200, 77}, {130, 3, 33}}
	checkGemmTiling(t, d, rng, tilingOddGPU, shapes)
	checkGemmTiling(t, d, rng, tilingOddCPU, shapes)
	checkConvTiling(t, d, rng, tilingOddCPU, convCases())
}
