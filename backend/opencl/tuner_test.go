package opencl

import (
	"fmt"
	"io/fs"
	"runtime"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/jgillich/go-opencl/cl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
)

var _ backend.Tuner = (*Device)(nil)

// alexNetGemms are the products of AlexNet's three fully connected layers
// (6400 -> 4096 -> 4096 -> 10) at the given batch: forward, backward data,
// backward weights.
func alexNetGemms(batch int) []backend.Gemm {
	b := uint32(batch)
	var out []backend.Gemm
	for _, l := range [][2]uint32{{6400, 4096}, {4096, 4096}, {4096, 10}} {
		in, o := l[0], l[1]
		out = append(out,
			backend.Gemm{M: b, N: o, K: in, TransB: 1, Alpha: 1},
			backend.Gemm{M: b, N: in, K: o, Alpha: 1},
			backend.Gemm{M: o, N: in, K: b, TransA: 1, Alpha: 1})
	}
	return out
}

// alexNetDispatches are AlexNet's tiled dispatches at the given batch.
func alexNetDispatches(batch int) []backend.Params {
	var out []backend.Params
	for _, l := range alexNetConvs(batch) {
		out = append(out, backend.Conv2DFwd{Conv2DShape: l.g}, backend.Conv2DBwdData{Conv2DShape: l.g},
			backend.Conv2DBwdFilter{Conv2DShape: l.g})
	}
	for _, g := range alexNetGemms(batch) {
		out = append(out, g)
	}
	return out
}

// representativeDispatches are AlexNet's tiled dispatches at batch 128 and
// 1 and those of the conformance cases (Large ones left out).
func representativeDispatches() []backend.Params {
	out := append(alexNetDispatches(128), alexNetDispatches(1)...)
	for _, k := range backend.TiledKernels() {
		for _, c := range backendtest.CasesOf(k) {
			if !c.Large {
				out = append(out, c.Params)
			}
		}
	}
	return out
}

// spaceUnion is, per kernel, the union of the candidates of every
// representative dispatch on d: TileCandidates, and the candidates d
// would have with gpuSpace (the GPU configurations, checked here for
// correctness only).
func spaceUnion(d *Device) map[backend.Kernel][]backend.TileConfig {
	out := map[backend.Kernel][]backend.TileConfig{}
	for _, p := range representativeDispatches() {
		k := p.Kernel()
		for _, c := range append(d.TileCandidates(p), d.tileCandidates(p, gpuSpace)...) {
			if !slices.Contains(out[k], c) {
				out[k] = append(out[k], c)
			}
		}
	}
	return out
}

// TestTileSpaceConformance runs the conformance cases of each tiled kernel
// (Large ones left out) with every configuration of its space on the
// device: the candidates of the representative dispatches, GPU
// configurations included. The configurations are dealt out to one
// device per CPU (at most 4), each building and checking its own share:
// the builds dominate a cold PoCL cache.
func TestTileSpaceConformance(t *testing.T) {
	d := openTileTest(t)
	union := spaceUnion(d)
	var vs []backendtest.TileVariant
	for _, k := range backend.TiledKernels() {
		require.NotEmpty(t, union[k], k)
		for _, c := range union[k] {
			vs = append(vs, backendtest.TileVariant{Kernel: k, Config: c})
		}
	}
	t.Logf("%d configurations: %d gemm, %d conv2d_fwd, %d conv2d_bwd_data, %d conv2d_bwd_filter", len(vs), len(union[backend.KGemm]),
		len(union[backend.KConv2DFwd]), len(union[backend.KConv2DBwdData]), len(union[backend.KConv2DBwdFilter]))
	devs := []backend.Device{d}
	for len(devs) < min(runtime.NumCPU(), 4) {
		o, err := Open(0)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, o.Close()) })
		devs = append(devs, o)
	}
	rep := backendtest.RunTileVariants(devs, vs)
	assert.Positive(t, rep.Runs)
	for _, msg := range rep.Failures {
		t.Error(msg)
	}
}

// TestTileSpaceShape checks the space on this device and on a GPU-like
// device: every family is there, the default comes first, no duplicates,
// at most maxCandidates, and every candidate round-trips through its text
// and passes CheckTile.
func TestTileSpaceShape(t *testing.T) {
	d := openTileTest(t)
	gpu := &Device{info: backend.Info{Type: backend.DiscreteGPU, MaxWorkGroupSize: 1024, LocalMemory: 64 << 10,
		ComputeUnits: 40, MaxAlloc: 4 << 30}}
	for _, dev := range []*Device{d, gpu} {
		for _, p := range representativeDispatches() {
			k := p.Kernel()
			cands := dev.TileCandidates(p)
			require.NotEmpty(t, cands)
			assert.Equal(t, dev.DefaultTile(p), cands[0], "%s %s", k, p.Shape())
			assert.LessOrEqual(t, len(cands), maxCandidates)
			for i, c := range cands {
				assert.NotContains(t, cands[:i], c, "duplicate")
				tc, err := parseTile(k, c)
				require.NoError(t, err, c)
				assert.Equal(t, c, tc.text(k), "round trip")
				require.NoError(t, dev.CheckTile(p, c), "%s %s", k, p.Shape())
			}
		}
	}
	names := func(dev *Device, p backend.Params) []string {
		var out []string
		for _, c := range dev.TileCandidates(p) {
			tc, err := parseTile(p.Kernel(), c)
			require.NoError(t, err)
			if tc.naive {
				out = append(out, "naive")
				continue
			}
			out = append(out, fmt.Sprintf("%s/%d", tc.t.name, tc.splits))
		}
		return out
	}
	cpu := &Device{info: backend.Info{Type: backend.CPUDevice, MaxWorkGroupSize: 4096, LocalMemory: 4 << 20, ComputeUnits: 2},
		vecFloats: 16}
	fc1 := backend.Gemm{M: 1, N: 4096, K: 6400, TransB: 1, Alpha: 1}
	assert.Equal(t, []string{"cpu/0", "cpu_direct_thin/0", "cpu32/0", "cpu4x16/0", "cpu6x16_direct/0", "cpu6x16/0", "cpu6x32/0", "cpu_direct/0"},
		names(cpu, fc1), "batch 1, AVX-512: the thin tile first after the default")
	wino3 := backend.Gemm{M: 96, N: 21632, K: 256, Batch: 36, Alpha: 1}
	assert.Contains(t, names(cpu, wino3)[:4], "cpu6x32/0", "96 rows, AVX-512: the unpadded 48-row tiles first after the default")
	avx2 := &Device{info: cpu.info, vecFloats: 8}
	fc128 := backend.Gemm{M: 128, N: 4096, K: 6400, TransB: 1, Alpha: 1}
	assert.Equal(t, []string{"cpu/0", "cpu4x16/0", "cpu6x16_direct/0", "cpu6x16/0"}, names(avx2, fc128)[:4],
		"AVX2: the blocks that fit 16 registers first after the default")
	assert.Equal(t, 1.0, avx2.spill(tilingCPU6x16))
	assert.InDelta(t, 256.0/96, avx2.spill(tilingCPU), 1e-12, "8x32 outputs in 16 registers of 8")
	assert.Equal(t, 1.0, cpu.spill(tilingCPU), "8x32 outputs fit 32 registers of 16")
	assert.Equal(t, []string{"gpu/0", "gpu32/0", "gpu_lvw1/0", "gpu128/0", "gpu_direct/0"}, names(gpu, fc1))
	conv2 := backend.NewConv2DShape(128, 96, 26, 26, 256, 5, 5, 1, 2)
	assert.Equal(t, []string{"naive", "cpu32/0", "cpu/0", "cpu4x16_w64/0", "cpu96/0"},
		names(cpu, backend.Conv2DBwdData{Conv2DShape: backend.NewConv2DShape(1, 1, 224, 224, 96, 11, 11, 4, 1)}))
	bf := names(cpu, backend.Conv2DBwdFilter{Conv2DShape: conv2})
	assert.Equal(t, "cpu128/0", bf[0])
	assert.Contains(t, bf, "cpu/1")
	assert.Contains(t, bf, "cpu32/4")

	small := &Device{info: backend.Info{Type: backend.DiscreteGPU, MaxWorkGroupSize: 64, LocalMemory: 8 << 10, ComputeUnits: 4}}
	assert.Equal(t, []string{"cpu/0", "gpu32/0"}, names(small, fc1), "the work-group and local memory limits")
}

// tilingText is the configuration text of tiling t (splits 0) for k.
func tilingText(k backend.Kernel, t tiling) backend.TileConfig { return tileConfig{t: t}.text(k) }

// TestDefaultTileIsTodaysChoice pins the default configuration of
// AlexNet's dispatches at batch 128 and 1 and of the conformance shapes
// on a CPU device, a GPU, and a GPU whose work-groups cannot hold
// tilingGPU: the tilings the launchers chose before the tuner existed.
func TestDefaultTileIsTodaysChoice(t *testing.T) {
	cpu := &Device{info: backend.Info{Type: backend.CPUDevice, MaxWorkGroupSize: 4096, ComputeUnits: 2}}
	gpu := &Device{info: backend.Info{Type: backend.DiscreteGPU, MaxWorkGroupSize: 1024, LocalMemory: 64 << 10}}
	smallGPU := &Device{info: backend.Info{Type: backend.IntegratedGPU, MaxWorkGroupSize: 128, LocalMemory: 64 << 10}}
	naive := backend.TileConfig("naive=1")
	const f = backend.KConv2DFwd
	const bd = backend.KConv2DBwdData
	const bf = backend.KConv2DBwdFilter
	// Per AlexNet layer (K, C): conv2d_fwd, conv2d_bwd_data, conv2d_bwd_filter on CPUs.
	alex := [][3]tiling{
		{tilingCPU96, {}, tilingCPU},                 // conv1: K 96, C 1
		{tilingFwdCPU128, tilingCPU96, tilingCPU128}, // conv2: K 256, C 96
		{tilingFwdCPU128, tilingCPU, tilingCPU128},   // conv3: K 384, C 256
		{tilingFwdCPU128, tilingCPU96, tilingCPU128}, // conv4: K 384, C 384
		{tilingFwdCPU128, tilingCPU96, tilingCPU128}, // conv5: K 256, C 384
	}
	for _, batch := range []int{128, 1} {
		for i, l := range alexNetConvs(batch) {
			fwd, data, filt := backend.Conv2DFwd{Conv2DShape: l.g}, backend.Conv2DBwdData{Conv2DShape: l.g}, backend.Conv2DBwdFilter{Conv2DShape: l.g}
			wantData := naive
			if i > 0 {
				wantData = tilingText(bd, alex[i][1])
			}
			// A GPU whose work-groups cannot hold tilingGPU runs tilingCPU,
			// widened like a CPU's.
			for _, dev := range []*Device{cpu, smallGPU} {
				assert.Equal(t, tilingText(f, alex[i][0]), dev.DefaultTile(fwd), l.name)
				assert.Equal(t, wantData, dev.DefaultTile(data), l.name)
				assert.Equal(t, tilingText(bf, alex[i][2]), dev.DefaultTile(filt), l.name)
			}
			assert.Equal(t, tilingText(f, tilingGPU), gpu.DefaultTile(fwd), l.name)
			assert.Equal(t, tilingText(bf, tilingGPU), gpu.DefaultTile(filt), l.name)
			if i > 0 {
				assert.Equal(t, tilingText(bd, tilingGPU), gpu.DefaultTile(data), l.name)
			} else {
				assert.Equal(t, naive, gpu.DefaultTile(data), l.name)
			}
		}
		for _, g := range alexNetGemms(batch) {
			assert.Equal(t, tilingText(backend.KGemm, tilingCPU), cpu.DefaultTile(g))
			assert.Equal(t, tilingText(backend.KGemm, tilingGPU), gpu.DefaultTile(g))
			assert.Equal(t, tilingText(backend.KGemm, tilingCPU), smallGPU.DefaultTile(g))
		}
	}
	assert.Equal(t, backend.TileConfig("mwg=64 nwg=64 kwg=32 mdimc=8 ndimc=2 vw=16 lvw=16 strided=0 cpu=1 direct=0 splits=0"),
		cpu.DefaultTile(backend.Conv2DBwdFilter{Conv2DShape: alexNetConvs(1)[0].g}))
	assert.Equal(t, backend.TileConfig("mwg=64 nwg=64 kwg=16 mdimc=16 ndimc=16 vw=4 lvw=4 strided=1 cpu=0 direct=0"),
		gpu.DefaultTile(alexNetGemms(1)[0]))

	// The conformance shapes: the CPU rules by channel count.
	for _, k := range []backend.Kernel{f, bd, bf} {
		for _, c := range backendtest.CasesOf(k) {
			g := convShapeOf(c.Params)
			want := tilingText(k, map[backend.Kernel]func(tiling, int) tiling{f: fwdTiling, bd: bwdDataTiling, bf: bwdFilterTiling}[k](
				tilingCPU, map[backend.Kernel]int{f: int(g.K), bd: int(g.C), bf: int(g.K)}[k]))
			if k == bd && g.C < directBwdDataMaxC {
				want = naive
			}
			assert.Equal(t, want, cpu.DefaultTile(c.Params), c.FullName())
		}
	}
}

func convShapeOf(p backend.Params) backend.Conv2DShape {
	g, ok := backend.ConvShapeOf(p)
	if !ok {
		panic(p.Kernel())
	}
	return g
}

// launch is one traced kernel launch.
type launch struct {
	name          string
	global, local []int
}

// traceDispatch runs p on d with zeroed buffers and returns its launches.
func traceDispatch(t *testing.T, d *Device, p backend.Params, c backend.TileConfig) []launch {
	t.Helper()
	var got []launch
	d.trace = func(name string, global, local []int) {
		got = append(got, launch{name, slices.Clone(global), slices.Clone(local)})
	}
	defer func() { d.trace = nil }()
	bufs := make([]backend.Buffer, len(p.BufferSizes()))
	for i, n := range p.BufferSizes() {
		b, err := d.Alloc(n)
		require.NoError(t, err)
		require.NoError(t, d.Write(b, 0, make([]float32, n)))
		defer b.Release()
		bufs[i] = b
	}
	if c == "" {
		require.NoError(t, d.Dispatch(p, bufs...))
	} else {
		require.NoError(t, d.DispatchTile(c, p, bufs...))
	}
	require.NoError(t, d.Sync())
	return got
}

// TestUntunedDispatchesAreTodays pins, on a CPU device, the launches of
// AlexNet's dispatches at batch 1 with no tile set (kernel functions and
// their tilings, global and local sizes, split counts), then that SetTile
// changes them and SetTile(p, "") restores them.
func TestUntunedDispatchesAreTodays(t *testing.T) {
	d := openTileTest(t)
	if d.info.Type != backend.CPUDevice {
		t.Skip("the pinned launches are those of a CPU device")
	}
	key := func(k backend.Kernel, tl tiling) string { return tiledKernelKey(k, tl) }
	conv1 := backend.NewConv2DShape(1, 1, 224, 224, 96, 11, 11, 4, 1)
	conv3 := backend.NewConv2DShape(1, 256, 12, 12, 384, 3, 3, 1, 1)
	wlen3 := int(384 * 256 * 9)
	fc1 := backend.Gemm{M: 1, N: 4096, K: 6400, TransB: 1, Alpha: 1}
	cases := []struct {
		p    backend.Params
		want []launch
	}{
		{fc1, []launch{{key(backend.KGemm, tilingCPU), []int{128, 8}, []int{2, 8}}}},
		{backend.Conv2DBwdData{Conv2DShape: conv1}, []launch{{"conv2d_bwd_data_direct", []int{224 * 224}, []int{64}}}},
		{backend.Conv2DFwd{Conv2DShape: conv3}, []launch{
			{"conv2d_fwd_wt", []int{wlen3}, []int{64}},
			{key(backend.KConv2DFwd, tilingFwdCPU128), []int{6, 48}, []int{2, 16}}}},
		{backend.Conv2DBwdData{Conv2DShape: conv3}, []launch{
			{"conv2d_bwd_data_wt", []int{wlen3}, []int{64}},
			{key(backend.KConv2DBwdData, tilingCPU), []int{6, 32, 1}, []int{2, 8, 1}}}},
		{backend.Conv2DBwdFilter{Conv2DShape: conv3}, []launch{
			{key(backend.KConv2DBwdFilter, tilingCPU128), []int{74, 48}, []int{2, 16}}}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, traceDispatch(t, d, c.p, ""), "%s %s", c.p.Kernel(), c.p.Shape())
	}

	bf := backend.Conv2DBwdFilter{Conv2DShape: conv3}
	split := tileConfig{t: tilingCPU32, splits: 2}.text(bf.Kernel())
	require.NoError(t, d.SetTile(bf, split))
	want := []launch{
		{key(backend.KConv2DBwdFilter, tilingCPU32), []int{74, 12 * 4, 2}, []int{2, 4, 1}},
		{"conv2d_bwd_filter_reduce", []int{384 * 2305}, []int{64}},
	}
	assert.Equal(t, want, traceDispatch(t, d, bf, ""), "the table's configuration")
	assert.Equal(t, want, traceDispatch(t, d, bf, split), "DispatchTile")
	require.NoError(t, d.SetTile(bf, ""))
	assert.Equal(t, cases[4].want, traceDispatch(t, d, bf, ""), "restored")
	require.NoError(t, d.SetTile(fc1, tilingText(backend.KGemm, tilingCPUDirectThin)))
	assert.Equal(t, []launch{{key(backend.KGemm, tilingCPUDirectThin), []int{128, 1}, []int{4, 1}}}, traceDispatch(t, d, fc1, ""))
	other := fc1
	other.K = 6401
	assert.Equal(t, cases[0].want, traceDispatch(t, d, other, ""), "another shape keeps its default")
}

// TestCheckTileErrors checks the errors of CheckTile, SetTile and
// DispatchTile, each naming the reason and the configuration.
func TestCheckTileErrors(t *testing.T) {
	cpu := &Device{info: backend.Info{Name: "small", Type: backend.CPUDevice, MaxWorkGroupSize: 64, LocalMemory: 16 << 10,
		ComputeUnits: 2, MaxAlloc: 64 << 10}}
	g := backend.Gemm{M: 5, N: 7, K: 9, Alpha: 1}
	conv := backend.NewConv2DShape(2, 20, 9, 9, 40, 3, 3, 1, 1)
	fwd, bd, bf := backend.Conv2DFwd{Conv2DShape: conv}, backend.Conv2DBwdData{Conv2DShape: conv}, backend.Conv2DBwdFilter{Conv2DShape: conv}
	def := string(cpu.DefaultTile(g))
	cases := []struct {
		p    backend.Params
		c    string
		want string
	}{
		{g, "mwg=64", `opencl: gemm configuration "mwg=64": missing parameter nwg`},
		{g, def + " splits=0", `opencl: gemm configuration "` + def + ` splits=0": unknown parameter "splits" ` +
			`(the parameters are mwg, nwg, kwg, mdimc, ndimc, vw, lvw, strided, cpu, direct)`},
		{g, "naive=1", `opencl: gemm configuration "naive=1": unknown parameter "naive" (the parameters are mwg, nwg, kwg, mdimc, ndimc, vw, lvw, strided, cpu, direct)`},
		{g, "mwg=x", `opencl: gemm: tile configuration "mwg=x": mwg="x" is not an integer`},
		{g, "", `opencl: gemm configuration "": empty (want mwg, nwg, kwg, mdimc, ndimc, vw, lvw, strided, cpu, direct)`},
		{g, "mwg=64 nwg=64 kwg=32 mdimc=8 ndimc=2 vw=16 lvw=16 strided=2 cpu=1 direct=0",
			`opencl: gemm configuration "mwg=64 nwg=64 kwg=32 mdimc=8 ndimc=2 vw=16 lvw=16 strided=2 cpu=1 direct=0": strided=2 must be 0 or 1`},
		{g, "mwg=64 nwg=64 kwg=32 mdimc=8 ndimc=2 vw=3 lvw=16 strided=0 cpu=1 direct=0",
			"opencl: tiling mwg=64 nwg=64 kwg=32 mdimc=8 ndimc=2 vw=3 lvw=16 strided=0 cpu=1 direct=0: vector widths vw=3, lvw=16 must be 2, 4, 8 or 16 (lvw also 1)"},
		{g, string(tilingText(backend.KGemm, tilingGPU)),
			"opencl: gemm: tiling gpu on small: a work-group of 256 work-items exceeds the device's 64"},
		{g, string(tilingText(backend.KGemm, tilingCPU128)),
			"opencl: gemm: tiling cpu128 on small: slabs of 49152 bytes exceed the device's 16384 bytes of local memory"},
		{fwd, string(tilingText(backend.KConv2DFwd, tilingCPUDirect)), "opencl: tiling cpu_direct: conv2d_fwd: direct=1: only gemm has a direct body"},
		{fwd, "mwg=64 nwg=40 kwg=8 mdimc=4 ndimc=2 vw=4 lvw=4 strided=0 cpu=1 direct=0",
			"opencl: tiling mwg=64 nwg=40 kwg=8 mdimc=4 ndimc=2 vw=4 lvw=4 strided=0 cpu=1 direct=0: conv2d_fwd: cpu=1 gathers x by blocks " +
				"of 16 columns: nwg=40 must be a multiple of 16, the work-group (8) of nwg/16 and kwg=8 of the work-group's rows of blocks"},
		{bd, "mwg=24 nwg=40 kwg=8 mdimc=4 ndimc=4 vw=2 lvw=4 strided=1 cpu=0 direct=0",
			"opencl: tiling mwg=24 nwg=40 kwg=8 mdimc=4 ndimc=4 vw=2 lvw=4 strided=1 cpu=0 direct=0: conv2d_bwd_data: a slab of 24 rows " +
				"needs a work-group (16) dividing it or divided by it, and kwg=8 a multiple of 1"},
		{bf, "mwg=32 nwg=64 kwg=16 mdimc=8 ndimc=8 vw=4 lvw=4 strided=1 cpu=0 direct=0 splits=0",
			"opencl: tiling mwg=32 nwg=64 kwg=16 mdimc=8 ndimc=8 vw=4 lvw=4 strided=1 cpu=0 direct=0 splits=0: conv2d_bwd_filter: both slabs " +
				"are filled row by row together: mwg=32 and nwg=64 must be equal or both at least the work-group (64)"},
		{bd, "naive=1 mwg=64", `opencl: conv2d_bwd_data configuration "naive=1 mwg=64": naive=1 stands alone (the direct kernel has no tiling); leave it out for a tiling`},
		{bd, "naive=0", `opencl: conv2d_bwd_data configuration "naive=0": naive=1 stands alone (the direct kernel has no tiling); leave it out for a tiling`},
		{bf, def, `opencl: conv2d_bwd_filter configuration "` + def + `": missing parameter splits`},
		{bf, def + " splits=65", `opencl: conv2d_bwd_filter configuration "` + def + ` splits=65": splits=65 must be in [0, 64] (0: chosen per shape)`},
		{bf, def + " splits=64", "opencl: conv2d_bwd_filter: tiling cpu on small: 6 splits keep 43440 partial sums (173760 bytes), " +
			"over the device's largest allocation of 65536 bytes"},
	}
	for _, c := range cases {
		assert.EqualError(t, cpu.CheckTile(c.p, backend.TileConfig(c.c)), c.want, "%s %q", c.p.Kernel(), c.c)
		if c.c != "" { // SetTile(p, "") restores the default
			assert.EqualError(t, cpu.SetTile(c.p, backend.TileConfig(c.c)), c.want)
		}
		assert.EqualError(t, cpu.DispatchTile(backend.TileConfig(c.c), c.p), c.want)
	}
	assert.Empty(t, cpu.tiles, "failed SetTile calls set nothing")
	require.NoError(t, cpu.CheckTile(bd, "naive=1"))
	require.NoError(t, cpu.CheckTile(bf, backend.TileConfig(def+" splits=1")))
	assert.PanicsWithValue(t, "opencl: relu_fwd is not a tiled kernel", func() { cpu.DefaultTile(backend.ReluFwd{N: 3}) })
	assert.PanicsWithValue(t, "opencl: relu_fwd is not a tiled kernel", func() { _ = cpu.CheckTile(backend.ReluFwd{N: 3}, "") })
	assert.PanicsWithValue(t, "opencl: relu_fwd is not a tiled kernel", func() { cpu.TileCandidates(backend.ReluFwd{N: 3}) })
}

// TestTileWorkGroupBelowKernelLimit mimics a driver whose built kernel
// admits fewer work-items per group than the configuration's: DispatchTile
// fails naming both, the device stays usable, CheckTile reports it from
// then on, and the default still runs.
func TestTileWorkGroupBelowKernelLimit(t *testing.T) {
	d := openTileTest(t)
	old := kernelGroupSize
	kernelGroupSize = func(k *cl.Kernel, dev *cl.Device) (int, error) { return 4, nil }
	t.Cleanup(func() { kernelGroupSize = old })
	p := backend.Gemm{M: 3, N: 5, K: 7, Alpha: 1}
	c := tilingText(backend.KGemm, tilingOddCPU)
	bufs := make([]backend.Buffer, 3)
	for i, n := range p.BufferSizes() {
		bufs[i] = upload(t, d, make([]float32, n))
	}
	err := d.DispatchTile(c, p, bufs...)
	assert.EqualError(t, err, "opencl: gemm built with tiling "+string(c)+" admits work-groups of at most 4 work-items on "+
		d.info.Name+" (CL_KERNEL_WORK_GROUP_SIZE), the tiling needs 8: choose a configuration with a smaller work-group (mdimc*ndimc)")
	require.NoError(t, d.usable())
	assert.Equal(t, err, d.CheckTile(p, c))
	assert.Equal(t, err, d.SetTile(p, c))
	kernelGroupSize = old
	require.NoError(t, d.Dispatch(p, bufs...))
	require.NoError(t, d.Sync())
}

// TestTuneIdentity checks the identity of this device: backend, device and
// driver as Info reports them, a short hash of the tiled sources (the same
// on every call) and the limits the candidates depend on.
func TestTuneIdentity(t *testing.T) {
	d := openTileTest(t)
	id := d.TuneIdentity()
	assert.Equal(t, "opencl", id.Backend)
	assert.Equal(t, d.info.Name, id.Device)
	assert.Equal(t, d.info.Vendor, id.Vendor)
	assert.Equal(t, d.info.DriverVersion, id.Driver)
	assert.Regexp(t, `^[0-9a-f]{16}$`, id.Sources)
	assert.Equal(t, id, d.TuneIdentity())
	assert.Equal(t, fmt.Sprintf("type=%s max_work_group=%d work_items=%v local_memory=%d compute_units=%d",
		d.info.Type, d.info.MaxWorkGroupSize, d.maxItems, d.info.LocalMemory, d.info.ComputeUnits), id.Limits)

	saved := d.info.MaxAlloc
	defer func() { d.info.MaxAlloc = saved }()
	d.info.MaxAlloc = saved / 4
	assert.Equal(t, id, d.TuneIdentity(), "the largest allocation (PoCL: a share of the memory free at open) is not in the identity")
}

// TestSourcesHashCoversAlgoChoice checks that the identity's hash changes
// with the source of a tiled kernel, of a helper it runs and of a Winograd
// transform (the cached algorithm choices were timed with them), and not
// with that of a kernel the tuner never times.
func TestSourcesHashCoversAlgoChoice(t *testing.T) {
	src := openCLSources()
	want, err := sourcesHash(src)
	require.NoError(t, err)
	edited := func(name string) fs.FS {
		m := fstest.MapFS{}
		require.NoError(t, fs.WalkDir(src, ".", func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			b, err := fs.ReadFile(src, p)
			if p == name {
				b = append(b, []byte("\n// edited\n")...)
			}
			m[p] = &fstest.MapFile{Data: b}
			return err
		}))
		return m
	}
	for name, changes := range map[string]bool{
		"gemm.cl": true, "conv2d_bwd_filter_reduce.cl": true, "winograd_input.cl": true, "winograd.h": true,
		"winograd_dw.cl": true, "relu_fwd.cl": false, "adam.cl": false,
	} {
		got, err := sourcesHash(edited(name))
		require.NoError(t, err, name)
		if changes {
			assert.NotEqual(t, want, got, "editing %s must change the hash", name)
		} else {
			assert.Equal(t, want, got, "editing %s must leave the hash", name)
		}
	}
}
