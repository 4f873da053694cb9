package opencl

import (
	"fmt"
	"slices"
	"strings"

	"github.com/crossgrad/crossgrad/backend"
)

// The tilings of the tuner's space besides the defaults (tilingCPU,
// tilingGPU and the wider CPU tilings of the convolutions). Every number
// is written here only and reaches the kernels as -D options.
var (
	// tilingCPU32: 32x64 tiles, 4x2 work-items of 8x32 outputs, whole
	// slabs loaded as float4 (fewer padded rows for small M).
	tilingCPU32 = tiling{name: "cpu32", mwg: 32, nwg: 64, kwg: 32, mdimc: 4, ndimc: 2, vw: 16, lvw: 4, cpu: true}
	// tilingCPUDirect: gemm's direct body with tilingCPU's register
	// blocks, no local memory and no barrier (PoCL runs barriers as
	// switches between work-items).
	tilingCPUDirect = tiling{name: "cpu_direct", mwg: 64, nwg: 64, kwg: 8, mdimc: 8, ndimc: 2, vw: 16, lvw: 1, cpu: true, direct: true}
	// tilingCPUDirectThin: gemm's direct body for few rows (fully
	// connected layers at small batch): 4x128 tiles, 1x4 work-items of
	// 4x32 outputs.
	tilingCPUDirectThin = tiling{name: "cpu_direct_thin", mwg: 4, nwg: 128, kwg: 8, mdimc: 1, ndimc: 4, vw: 16, lvw: 1, cpu: true, direct: true}

	// The CPU tilings below keep a work-item's accumulators within 16
	// AVX2 registers (8 floats each), where tilingCPU's 8x32 outputs fit
	// only AVX-512's 32 registers of 16 and spill on AVX2 (see tileCost).
	// tilingCPU6x16: 48x64 tiles of 64-deep slabs, 8x4 work-items of 6x16
	// outputs (two float8 per row), the block of AVX2 SGEMM kernels.
	tilingCPU6x16 = tiling{name: "cpu6x16", mwg: 48, nwg: 64, kwg: 64, mdimc: 8, ndimc: 4, vw: 8, lvw: 16, cpu: true}
	// tilingCPU6x16K128: tilingCPU6x16 with 128-deep slabs (fewer
	// barriers per output for the convolutions' long reductions).
	tilingCPU6x16K128 = tiling{name: "cpu6x16_k128", mwg: 48, nwg: 64, kwg: 128, mdimc: 8, ndimc: 4, vw: 8, lvw: 16, cpu: true}
	// tilingCPU4x16: 32x64 tiles, 8x4 work-items of 4x16 outputs.
	tilingCPU4x16 = tiling{name: "cpu4x16", mwg: 32, nwg: 64, kwg: 32, mdimc: 8, ndimc: 4, vw: 8, lvw: 16, cpu: true}
	// tilingCPU4x16W64: 64x64 tiles, 16x4 work-items of 4x16 outputs (a
	// work-group that divides both slabs, as conv2d_bwd_data needs).
	tilingCPU4x16W64 = tiling{name: "cpu4x16_w64", mwg: 64, nwg: 64, kwg: 64, mdimc: 16, ndimc: 4, vw: 8, lvw: 16, cpu: true}
	// tilingCPU4x16W128: 128x64 tiles, 32x4 work-items of 4x16 outputs.
	tilingCPU4x16W128 = tiling{name: "cpu4x16_w128", mwg: 128, nwg: 64, kwg: 64, mdimc: 32, ndimc: 4, vw: 8, lvw: 16, cpu: true}
	// tilingCPU6x32: 48x64 tiles, 8x2 work-items of 6x32 outputs (two
	// float16 per row: 12 of AVX-512's 32 registers). For 96 or 48 rows
	// (conv.3's Winograd gemms) tilingCPU pads a half-empty row tile:
	// gemm M96 N21632 K256 ran 97.6 GFLOP/s with it against 44.3 on PoCL.
	tilingCPU6x32 = tiling{name: "cpu6x32", mwg: 48, nwg: 64, kwg: 32, mdimc: 8, ndimc: 2, vw: 16, lvw: 16, cpu: true}
	// tilingCPU6x16Direct: gemm's direct body with tilingCPU6x16's blocks.
	tilingCPU6x16Direct = tiling{name: "cpu6x16_direct", mwg: 48, nwg: 64, kwg: 8, mdimc: 8, ndimc: 4, vw: 8, lvw: 1, cpu: true, direct: true}

	// tilingGPU128: 128x128 tiles of 16-deep slabs, 16x16 work-items of
	// 8x8 outputs (two float4 per row), strided.
	tilingGPU128 = tiling{name: "gpu128", mwg: 128, nwg: 128, kwg: 16, mdimc: 16, ndimc: 16, vw: 4, lvw: 4, strided: true}
	// tilingGPU32: 32x32 tiles, 8x8 work-items of 4x4 outputs, float2
	// slab loads (devices with small work-groups, small layers).
	tilingGPU32 = tiling{name: "gpu32", mwg: 32, nwg: 32, kwg: 16, mdimc: 8, ndimc: 8, vw: 4, lvw: 2, strided: true}
	// tilingGPULoad1: tilingGPU with scalar slab loads.
	tilingGPULoad1 = tiling{name: "gpu_lvw1", mwg: 64, nwg: 64, kwg: 16, mdimc: 16, ndimc: 16, vw: 4, lvw: 1, strided: true}
	// tilingGPUDirect: gemm's direct body with tilingGPU's work-group.
	tilingGPUDirect = tiling{name: "gpu_direct", mwg: 64, nwg: 64, kwg: 8, mdimc: 16, ndimc: 16, vw: 4, lvw: 1, strided: true, direct: true}
)

// cpuSpace and gpuSpace are the tilings the tuner tries per kernel on CPU
// devices and on the others (the bodies each family is written for);
// bwdFilterSplitSpace are the split counts tried with each tiling of
// conv2d_bwd_filter (0: bwdFilterSplits chooses), and conv2d_bwd_data also
// tries its direct kernel.
var (
	cpuSpace = map[backend.Kernel][]tiling{
		backend.KGemm: {tilingCPU, tilingCPU32, tilingCPUDirect, tilingCPUDirectThin,
			tilingCPU6x16, tilingCPU6x32, tilingCPU4x16, tilingCPU6x16Direct},
		backend.KConv2DFwd: {tilingCPU, tilingCPU32, tilingCPU96, tilingFwdCPU128,
			tilingCPU6x16K128, tilingCPU6x16, tilingCPU4x16W128},
		backend.KConv2DBwdData: {tilingCPU, tilingCPU32, tilingCPU96, tilingCPU4x16W64, tilingCPU4x16W128},
		backend.KConv2DBwdFilter: {tilingCPU, tilingCPU32, tilingCPU128,
			tilingCPU4x16W128, tilingCPU6x16, tilingCPU4x16W64},
	}
	gpuSpace = map[backend.Kernel][]tiling{
		backend.KGemm:            {tilingGPU, tilingGPU128, tilingGPU32, tilingGPULoad1, tilingGPUDirect},
		backend.KConv2DFwd:       {tilingGPU, tilingGPU128, tilingGPU32},
		backend.KConv2DBwdData:   {tilingGPU, tilingGPU128, tilingGPU32},
		backend.KConv2DBwdFilter: {tilingGPU, tilingGPU128, tilingGPU32},
	}
	bwdFilterSplitSpace = []int{0, 1, 4}
)

// maxCandidates caps TileCandidates per dispatch.
const maxCandidates = 48

// namedTilings are the tilings with a name of their own (parsed
// configurations with their numbers take that name).
func namedTilings() []tiling {
	out := []tiling{tilingGPU, tilingCPU, tilingCPU96, tilingCPU128, tilingFwdCPU128}
	for _, sp := range []map[backend.Kernel][]tiling{cpuSpace, gpuSpace} {
		for _, k := range backend.TiledKernels() {
			for _, t := range sp[k] {
				if !slices.Contains(out, t) {
					out = append(out, t)
				}
			}
		}
	}
	return out
}

// tileConfig is one configuration of a tiled dispatch: the tiling its
// kernel is built with and how it is launched.
type tileConfig struct {
	t      tiling
	splits int  // conv2d_bwd_filter: splits of the reduction asked for; 0: bwdFilterSplits chooses
	naive  bool // conv2d_bwd_data: the direct kernel conv2d_bwd_data_direct (t unused)
}

// tileParamNames are the names of a tiled configuration's text, in order;
// conv2d_bwd_filter's end with splits.
var tileParamNames = []string{"mwg", "nwg", "kwg", "mdimc", "ndimc", "vw", "lvw", "strided", "cpu", "direct"}

func paramNamesOf(k backend.Kernel) []string {
	if k == backend.KConv2DBwdFilter {
		return append(slices.Clone(tileParamNames), "splits")
	}
	return tileParamNames
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// text is c as the TileConfig of kernel k.
func (c tileConfig) text(k backend.Kernel) backend.TileConfig {
	if c.naive {
		return backend.FormatTile(backend.TileParam{Name: "naive", Value: 1})
	}
	t := c.t
	vals := []int{t.mwg, t.nwg, t.kwg, t.mdimc, t.ndimc, t.vw, t.lvw, b2i(t.strided), b2i(t.cpu), b2i(t.direct), c.splits}
	names := paramNamesOf(k)
	ps := make([]backend.TileParam, len(names))
	for i, n := range names {
		ps[i] = backend.TileParam{Name: n, Value: vals[i]}
	}
	return backend.FormatTile(ps...)
}

// parseTile reads configuration text c of kernel k: exactly the names of
// paramNamesOf(k) (conv2d_bwd_data: or naive=1 alone), booleans 0 or 1,
// splits in [0, maxSplits]. The tiling's own requirements are checked by
// checkTiling.
func parseTile(k backend.Kernel, c backend.TileConfig) (tileConfig, error) {
	fail := func(format string, args ...any) (tileConfig, error) {
		return tileConfig{}, fmt.Errorf("opencl: %s configuration %q: %s", k, c, fmt.Sprintf(format, args...))
	}
	ps, err := backend.ParseTile(c)
	if err != nil {
		return tileConfig{}, fmt.Errorf("opencl: %s: %w", k, err)
	}
	if len(ps) == 0 {
		return fail("empty (want %s)", strings.Join(paramNamesOf(k), ", "))
	}
	vals := map[string]int{}
	for _, p := range ps {
		vals[p.Name] = p.Value
	}
	if v, ok := vals["naive"]; ok && k == backend.KConv2DBwdData {
		if len(ps) != 1 || v != 1 {
			return fail("naive=1 stands alone (the direct kernel has no tiling); leave it out for a tiling")
		}
		return tileConfig{naive: true}, nil
	}
	names := paramNamesOf(k)
	for _, p := range ps {
		if !slices.Contains(names, p.Name) {
			return fail("unknown parameter %q (the parameters are %s)", p.Name, strings.Join(names, ", "))
		}
	}
	for _, n := range names {
		if _, ok := vals[n]; !ok {
			return fail("missing parameter %s", n)
		}
	}
	for _, n := range []string{"strided", "cpu", "direct"} {
		if v := vals[n]; v != 0 && v != 1 {
			return fail("%s=%d must be 0 or 1", n, v)
		}
	}
	if s := vals["splits"]; s < 0 || s > maxSplits {
		return fail("splits=%d must be in [0, %d] (0: chosen per shape)", s, maxSplits)
	}
	t := tiling{mwg: vals["mwg"], nwg: vals["nwg"], kwg: vals["kwg"], mdimc: vals["mdimc"], ndimc: vals["ndimc"],
		vw: vals["vw"], lvw: vals["lvw"], strided: vals["strided"] == 1, cpu: vals["cpu"] == 1, direct: vals["direct"] == 1}
	t.name = string(c)
	for _, n := range namedTilings() {
		if n.sameNumbers(t) {
			t.name = n.name
			break
		}
	}
	return tileConfig{t: t, splits: vals["splits"]}, nil
}

// checkTiling reports a tiling kernel k's bodies cannot run: the engine's
// requirements (tiling.validate), the direct body (gemm only), and the
// stationary fills of the convolutions (stationary).
func checkTiling(k backend.Kernel, t tiling) error {
	if err := t.validate(); err != nil {
		return err
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("opencl: tiling %s: %s: %s", t.name, k, fmt.Sprintf(format, args...))
	}
	if t.direct && k != backend.KGemm {
		return fail("direct=1: only gemm has a direct body")
	}
	blocks := func() error { // the CPU bodies' x slabs: blocks of 16 columns per work-item
		const nc = 16
		cg := t.nwg / nc
		if t.nwg%nc != 0 || t.wgs()%cg != 0 || t.kwg%(t.wgs()/cg) != 0 {
			return fail("cpu=1 gathers x by blocks of %d columns: nwg=%d must be a multiple of %d, the work-group (%d) of nwg/%d "+
				"and kwg=%d of the work-group's rows of blocks", nc, t.nwg, nc, t.wgs(), nc, t.kwg)
		}
		return nil
	}
	switch k {
	case backend.KConv2DFwd:
		if t.cpu {
			return blocks()
		}
		return t.stationary(k, t.nwg)
	case backend.KConv2DBwdData, backend.KConv2DBwdFilter:
		if k == backend.KConv2DBwdFilter && t.cpu {
			if err := blocks(); err != nil {
				return err
			}
			return t.stationary(k, t.mwg)
		}
		if err := t.stationary(k, t.mwg); err != nil {
			return err
		}
		if err := t.stationary(k, t.nwg); err != nil {
			return err
		}
		if t.mwg != t.nwg && (t.mwg < t.wgs() || t.nwg < t.wgs()) {
			return fail("both slabs are filled row by row together: mwg=%d and nwg=%d must be equal or both at least the work-group (%d)",
				t.mwg, t.nwg, t.wgs())
		}
	}
	return nil
}

// sameNumbers reports whether t and o differ in their names only.
func (t tiling) sameNumbers(o tiling) bool {
	t.name = o.name
	return t == o
}

// wgs is the number of work-items of t's work-group.
func (t tiling) wgs() int { return t.mdimc * t.ndimc }

// stationary reports a slab height tr that the stationary fills of
// gemm_tile.h (TL_SPW, TL_KSTEP) cannot split among t's work-items.
func (t tiling) stationary(k backend.Kernel, tr int) error {
	w := t.wgs()
	kstep := max(w/tr, 1)
	if (tr%w != 0 && w%tr != 0) || t.kwg%kstep != 0 {
		return fmt.Errorf("opencl: tiling %s: %s: a slab of %d rows needs a work-group (%d) dividing it or divided by it, "+
			"and kwg=%d a multiple of %d", t.name, k, tr, w, t.kwg, kstep)
	}
	return nil
}

// checkLimits reports a configuration beyond d's limits for p: the
// work-group size and work-item sizes, the slabs' local memory, and the
// partial sums of a split conv2d_bwd_filter (largest allocation).
func (d *Device) checkLimits(p backend.Params, c tileConfig) error {
	if c.naive {
		return nil
	}
	t, k := c.t, p.Kernel()
	fail := func(format string, args ...any) error {
		return fmt.Errorf("opencl: %s: tiling %s on %s: %s", k, t.name, d.info.Name, fmt.Sprintf(format, args...))
	}
	if d.info.MaxWorkGroupSize > 0 && t.wgs() > d.info.MaxWorkGroupSize {
		return fail("a work-group of %d work-items exceeds the device's %d", t.wgs(), d.info.MaxWorkGroupSize)
	}
	if len(d.maxItems) >= 2 && (t.ndimc > d.maxItems[0] || t.mdimc > d.maxItems[1]) {
		return fail("work-group %dx%d exceeds the device's work-item sizes %v", t.ndimc, t.mdimc, d.maxItems)
	}
	if d.info.LocalMemory > 0 && t.localBytes() > d.info.LocalMemory {
		return fail("slabs of %d bytes exceed the device's %d bytes of local memory", t.localBytes(), d.info.LocalMemory)
	}
	if q, ok := bwdFilterOf(p); ok {
		splits, _ := d.bwdFilterPlan(t, q, c.splits)
		n := splits * int(q.K) * int(q.C*q.R*q.S+1)
		if splits > 1 && (n > backend.MaxElements || (d.info.MaxAlloc > 0 && uint64(n)*4 > d.info.MaxAlloc)) {
			return fail("%d splits keep %d partial sums (%d bytes), over the device's largest allocation of %d bytes",
				splits, n, 4*uint64(n), d.info.MaxAlloc)
		}
	}
	return nil
}

// tileDims are the sizes of dispatch p as an implicit GEMM: m x n results
// (times groups: the products of a batched gemm, the stride phases of
// conv2d_bwd_data) reduced over red.
func tileDims(p backend.Params) (m, n, red, groups int) {
	switch p.Kernel() {
	case backend.KGemm:
		q, _ := backend.ParamsAs[backend.Gemm](p)
		return int(q.M), int(q.N), int(q.K), q.Batches()
	case backend.KConv2DFwd:
		q, _ := backend.ParamsAs[backend.Conv2DFwd](p)
		return int(q.K), int(q.N * q.OH * q.OW), int(q.C * q.R * q.S), 1
	case backend.KConv2DBwdData:
		q, _ := backend.ParamsAs[backend.Conv2DBwdData](p)
		sh, sw := max(int(q.StrideH), 1), max(int(q.StrideW), 1)
		cols := int(q.N) * ((int(q.H) + sh - 1) / sh) * ((int(q.W) + sw - 1) / sw)
		return int(q.C), cols, max(int(q.K*q.R*q.S)/(sh*sw), 1), sh * sw
	case backend.KConv2DBwdFilter:
		q, _ := backend.ParamsAs[backend.Conv2DBwdFilter](p)
		return int(q.K), int(q.C*q.R*q.S) + 1, int(q.N * q.OH * q.OW), 1
	}
	panic(fmt.Sprintf("opencl: %s is not a tiled kernel", p.Kernel()))
}

// bwdFilterOf is p as conv2d_bwd_filter's params, when it is.
func bwdFilterOf(p backend.Params) (backend.Conv2DBwdFilter, bool) {
	if p.Kernel() != backend.KConv2DBwdFilter {
		return backend.Conv2DBwdFilter{}, false
	}
	q, err := backend.ParamsAs[backend.Conv2DBwdFilter](p)
	return q, err == nil
}

// tileCost is the cost model ordering the candidates (lower first), per
// result element: padding (results computed past the edges of the tiles)
// times the global loads per multiply-add (1/mwg + 1/nwg staged through
// local memory; a direct body on a GPU reloads per work-item, 1/rows +
// 1/columns of its block, while a CPU's caches serve the tile) plus a
// constant for the arithmetic and, on CPUs, the barriers of each slab;
// divided by the share of the compute units the work-groups keep busy
// (two groups per unit); plus the traffic of split-K partial sums; a CPU
// body's cost is multiplied by its register spill (spill).
// conv2d_bwd_data's direct kernel loads two operands per multiply-add.
func (d *Device) tileCost(p backend.Params, c tileConfig) float64 {
	m, n, red, groups := tileDims(p)
	if c.naive {
		return 2
	}
	t := c.t
	pad := func(v, tile int) float64 {
		v = max(v, 1)
		return float64((v+tile-1)/tile*tile) / float64(v)
	}
	waste := pad(m, t.mwg) * pad(n, t.nwg)
	loads := 1/float64(t.mwg) + 1/float64(t.nwg)
	cpu := d.info.Type == backend.CPUDevice
	if t.direct && !cpu {
		loads = 1/float64(t.mwg/t.mdimc) + 1/float64(t.nwg/t.ndimc)
	}
	if cpu && !t.direct {
		loads += float64(2*t.wgs()) / float64(t.kwg*t.mwg*t.nwg)
	}
	splits := 1
	if q, ok := bwdFilterOf(p); ok {
		splits, _ = d.bwdFilterPlan(t, q, c.splits)
	}
	work := float64(((m+t.mwg-1)/t.mwg)*((n+t.nwg-1)/t.nwg)*groups*splits) / float64(2*max(d.info.ComputeUnits, 1))
	cost := waste*(loads+1.0/16)/min(work, 1) + 2*float64(splits-1)/float64(max(red, 1))
	if cpu && t.cpu {
		cost *= d.spill(t)
	}
	return cost
}

// spill is how many times a work-item's accumulators of t (WPTM x NWG/NDIMC
// floats) exceed three quarters of the CPU's vector registers, at least 1:
// 32 registers of 16 floats where the native float vector is 16 wide
// (AVX-512), else 16 registers of that width (AVX2, SSE, NEON's 4); an
// unknown width counts as AVX2's 8.
func (d *Device) spill(t tiling) float64 {
	w := d.vecFloats
	if w <= 0 {
		w = 8
	}
	regs := 16 * w
	if w >= 16 {
		regs = 32 * w
	}
	acc := (t.mwg / t.mdimc) * (t.nwg / t.ndimc)
	return max(1, float64(acc)/(0.75*float64(regs)))
}

// tileCandidates lists the configurations of p on d from space (cpuSpace
// or gpuSpace), as TileCandidates does.
func (d *Device) tileCandidates(p backend.Params, space map[backend.Kernel][]tiling) []backend.TileConfig {
	k := p.Kernel()
	def := d.defaultTile(p)
	var cands []tileConfig
	if k == backend.KConv2DBwdData {
		cands = append(cands, tileConfig{naive: true})
	}
	for _, t := range space[k] {
		if k != backend.KConv2DBwdFilter {
			cands = append(cands, tileConfig{t: t})
			continue
		}
		for _, s := range bwdFilterSplitSpace {
			cands = append(cands, tileConfig{t: t, splits: s})
		}
	}
	// effective names what a configuration runs (split counts asked for
	// and run may differ): the first of equal ones stays.
	effective := func(c tileConfig) tileConfig {
		if q, ok := bwdFilterOf(p); ok && !c.naive {
			c.splits, _ = d.bwdFilterPlan(c.t, q, c.splits)
		}
		return c
	}
	seen := []tileConfig{effective(def)}
	var rest []tileConfig
	for _, c := range cands {
		e := effective(c)
		if slices.Contains(seen, e) || (!c.naive && checkTiling(k, c.t) != nil) || d.checkLimits(p, c) != nil {
			continue
		}
		seen = append(seen, e)
		rest = append(rest, c)
	}
	costs := make(map[tileConfig]float64, len(rest))
	for _, c := range rest {
		costs[c] = d.tileCost(p, c)
	}
	slices.SortStableFunc(rest, func(a, b tileConfig) int {
		switch ca, cb := costs[a], costs[b]; {
		case ca < cb:
			return -1
		case ca > cb:
			return 1
		}
		return 0
	})
	out := []backend.TileConfig{def.text(k)}
	for _, c := range rest {
		if len(out) == maxCandidates {
			break
		}
		out = append(out, c.text(k))
	}
	return out
}
