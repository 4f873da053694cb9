package vulkan

import (
	"math"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/alexnet"
	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	"github.com/crossgrad/crossgrad/layers"
	"github.com/crossgrad/crossgrad/shaders"
)

var _ backend.Tuner = (*Device)(nil)

// alexnetDispatches lists the tiled dispatches of one training step of
// AlexNet at the given input side, width and batch, in step order.
func alexnetDispatches(t *testing.T, side int, width float64, batch int) []backend.Params {
	t.Helper()
	o := alexnet.DefaultOptions()
	o.InputSize, o.Width = side, width
	seq, err := alexnet.Arch{}.Build(o)
	require.NoError(t, err)
	ls := seq.Layers()
	shapes, err := seq.Shapes(layers.Shape{batch, 1, side, side})
	require.NoError(t, err)
	var out []backend.Params
	add := func(ds []layers.Dispatch) {
		for _, d := range ds {
			if backend.IsTiled(d.P.Kernel()) {
				out = append(out, d.P)
			}
		}
	}
	ctx := func(i int) *layers.Ctx {
		c := &layers.Ctx{In: shapes[i], Out: shapes[i+1], W: make([]backend.Buffer, 4), G: make([]backend.Buffer, 4),
			Aux: make([]backend.Buffer, 4), S: make([]backend.Buffer, 4), Train: true}
		if i > 0 {
			c.DX = &Buffer{}
		}
		return c
	}
	for i, l := range ls {
		add(l.Forward(ctx(i)))
	}
	for i := len(ls) - 1; i >= 0; i-- {
		add(ls[i].Backward(ctx(i)))
	}
	return out
}

// representativeDispatches are the seed AlexNet's (224, width 1) and the
// cpu-quick preset's (65, width 0.5) tiled dispatches at batch 128 and 1,
// and the small conformance cases of the tiled kernels.
func representativeDispatches(t *testing.T) []backend.Params {
	var ps []backend.Params
	for _, m := range []struct {
		side  int
		width float64
	}{{224, 1}, {65, 0.5}} {
		for _, b := range []int{128, 1} {
			ps = append(ps, alexnetDispatches(t, m.side, m.width, b)...)
		}
	}
	for _, k := range backend.TiledKernels() {
		for _, c := range backendtest.CasesOf(k) {
			if !c.Large {
				ps = append(ps, c.Params)
			}
		}
	}
	return ps
}

// legacyTile is the tiling choice of the engine before tuning (a frozen copy
// of the cost model): DefaultTile must reproduce it exactly.
func legacyTile(d *Device, m, n int) (wx, wy, tm, tn, tk uint32) {
	type cfg struct{ wx, wy, tm, tn, tk uint32 }
	cfgs := []cfg{{16, 16, 64, 64, 16}, {16, 8, 32, 64, 16}, {8, 16, 64, 32, 16}, {64, 2, 8, 256, 8},
		{2, 64, 256, 8, 8}, {64, 1, 2, 256, 8}, {1, 64, 256, 2, 8}, {8, 8, 32, 32, 16}}
	if d.info.Type == backend.CPUDevice {
		cfgs = []cfg{{8, 8, 64, 64, 16}, {8, 8, 64, 32, 16}, {8, 8, 32, 64, 16}, {64, 2, 8, 256, 8},
			{2, 64, 256, 8, 8}, {64, 1, 2, 256, 8}, {1, 64, 256, 2, 8}, {8, 8, 32, 32, 16}}
	}
	l := d.limits
	best, bestCost := cfgs[len(cfgs)-1], math.Inf(1)
	for _, c := range cfgs {
		shared := 4 * c.tk * (c.tm + 1 + c.tn + 1)
		if c.wx*c.wy > l.MaxComputeWorkGroupInvocations || c.wx > l.MaxComputeWorkGroupSize[0] ||
			c.wy > l.MaxComputeWorkGroupSize[1] || shared > l.MaxComputeSharedMemorySize {
			continue
		}
		pm := float64(ceilDiv(m, int(c.tm)) * int(c.tm))
		pn := float64(ceilDiv(n, int(c.tn)) * int(c.tn))
		if cost := pm * pn * (1 + 16/float64(c.tm) + 16/float64(c.tn)); cost < bestCost {
			best, bestCost = c, cost
		}
	}
	return best.wx, best.wy, best.tm, best.tn, best.tk
}

// legacySplits is the split-K count of conv2d_bwd_filter before tuning.
func legacySplits(d *Device, q backend.Conv2DBwdFilter, parallel int) int {
	k, cols := int(q.K), int(q.C*q.R*q.S)+1
	_, _, tm, tn, tk := legacyTile(d, k, cols)
	l := int(q.N * q.OH * q.OW)
	tiles := ceilDiv(k, int(tm)) * ceilDiv(cols, int(tn))
	splits := 1
	if tiles < parallel {
		splits = min(ceilDiv(parallel, tiles), ceilDiv(l, 4*int(tk)), 64)
	}
	if splits > 1 {
		chunk := ceilDiv(ceilDiv(l, splits), int(tk)) * int(tk)
		splits = ceilDiv(l, chunk)
	}
	if splits > 1 && uint64(splits*k*cols)*4 > d.maxRange() {
		splits = 1
	}
	return splits
}

// TestDefaultTileIsToday checks, on a GPU-like and a CPU-like device, that
// DefaultTile of every representative dispatch is the tiling and split count
// the engine ran before tuning, and that planning without a set tile runs
// exactly it.
func TestDefaultTileIsToday(t *testing.T) {
	for _, typ := range []backend.DeviceType{backend.DiscreteGPU, backend.CPUDevice} {
		d := planDevice(128 << 20)
		d.info.Type = typ
		for _, p := range representativeDispatches(t) {
			m, n, _ := d.tileDims(p)
			wx, wy, tm, tn, tk := legacyTile(d, m, n)
			splits := 0
			if q, ok := p.(backend.Conv2DBwdFilter); ok {
				splits = legacySplits(d, q, d.parallelGroups())
			}
			want := backend.FormatTile(backend.TileParam{Name: "wx", Value: int(wx)}, backend.TileParam{Name: "wy", Value: int(wy)},
				backend.TileParam{Name: "tm", Value: int(tm)}, backend.TileParam{Name: "tn", Value: int(tn)},
				backend.TileParam{Name: "tk", Value: int(tk)}, backend.TileParam{Name: "direct", Value: 0},
				backend.TileParam{Name: "vw", Value: 1}, backend.TileParam{Name: "sg", Value: 0},
				backend.TileParam{Name: "splits", Value: splits})
			require.Equal(t, want, d.DefaultTile(p), "%s %s on %s", p.Kernel(), p.Shape(), typ)
			cands := d.TileCandidates(p)
			require.NotEmpty(t, cands)
			assert.Equal(t, want, cands[0], "candidates start with the default")
			assert.LessOrEqual(t, len(cands), maxCandidates)
			if _, _, win := d.tileDims(p); win || p.Kernel() == backend.KConv2DBwdFilter && splits > 1 {
				continue // windows and split-K need scratch buffers of a real device
			}
			passes, err := d.plan(p, planBuffers(p.BufferSizes()))
			require.NoError(t, err)
			assert.Equal(t, []uint32{wx, wy, tm, tn, tk, 0, 1}, passes[0].spec, "%s %s", p.Kernel(), p.Shape())
			assert.Equal(t, string(p.Kernel()), passes[0].module)
		}
	}
}

// TestTileCandidatesPassConformance runs the small conformance cases of the
// four tiled kernels with every configuration that TileCandidates offers
// for any representative dispatch on device 0.
func TestTileCandidatesPassConformance(t *testing.T) {
	d := openOrSkip(t, Options{})
	defer func() { require.NoError(t, d.Close()) }()
	start := time.Now()
	space := map[backend.Kernel][]backend.TileConfig{}
	for _, p := range representativeDispatches(t) {
		k := p.Kernel()
		for _, c := range d.TileCandidates(p) {
			if !contains(space[k], c) {
				space[k] = append(space[k], c)
			}
		}
	}
	var vs []backendtest.TileVariant
	for _, k := range backend.TiledKernels() {
		require.NotEmpty(t, space[k], "no candidates for %s", k)
		for _, c := range space[k] {
			vs = append(vs, backendtest.TileVariant{Kernel: k, Config: c})
		}
	}
	// Two devices take the configurations in turn: a CPU driver runs a
	// small dispatch of a large block on one thread, so one device alone
	// leaves the other core idle.
	devs := []backend.Device{d}
	if runtime.NumCPU() > 1 {
		d2 := openOrSkip(t, Options{})
		defer func() { require.NoError(t, d2.Close()) }()
		devs = append(devs, d2)
	}
	rep := backendtest.RunTileVariants(devs, vs)
	assert.Positive(t, rep.Runs)
	for _, msg := range rep.Failures {
		t.Error(msg)
	}
	for _, k := range backend.TiledKernels() {
		t.Logf("%s: %d configurations, %v device time", k, len(space[k]), rep.Spent[k].Round(time.Millisecond))
	}
	t.Logf("%d case runs on %d devices in %v", rep.Runs, len(devs), time.Since(start).Round(time.Millisecond))
}

func contains(cs []backend.TileConfig, c backend.TileConfig) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// TestTileErrors checks that CheckTile, SetTile and DispatchTile refuse bad
// configurations by name, and that SetTile drives Dispatch and "" restores
// the default.
func TestTileErrors(t *testing.T) {
	d := planDevice(128 << 20)
	g := backend.Gemm{M: 30, N: 20, K: 10, TransB: 1, Alpha: 1}
	def := d.DefaultTile(g)
	for c, want := range map[backend.TileConfig]string{
		"wx=8 wy=8 tm=64 tn=64 tk=16 direct=0 vw=1 sg=0":                 "missing splits",
		"wx=8 wy=8 tm=64 tn=64 tk=16 direct=0 vw=1 sg=0 splits=0 mwg=64": `unknown name "mwg"`,
		"wx=8 wy=8 tm=64 tn=64 tk=16 direct=0 vw=1 sg=0 splits=x":        "is not an integer",
		"wx=32 wy=16 tm=64 tn=64 tk=16 direct=0 vw=1 sg=0 splits=0":      "over the device's maxComputeWorkGroupInvocations 256",
		"wx=16 wy=16 tm=128 tn=128 tk=32 direct=0 vw=1 sg=0 splits=0":    "over the device's maxComputeSharedMemorySize 32768",
		"wx=8 wy=8 tm=60 tn=64 tk=16 direct=0 vw=1 sg=0 splits=0":        "not a multiple of the work-group",
		"wx=8 wy=1 tm=8 tn=32 tk=4 direct=1 vw=4 sg=0 splits=0":          "vw=4 loads A along K and B^T along K four at a time: K=10 is not a multiple of 4",
		"wx=8 wy=1 tm=8 tn=32 tk=4 direct=1 vw=1 sg=1 splits=0":          "sg=1 needs subgroup ballot",
		"wx=8 wy=1 tm=8 tn=32 tk=4 direct=0 vw=4 sg=0 splits=0":          "the staged path (direct=0)",
		"wx=8 wy=1 tm=8 tn=32 tk=4 direct=1 vw=1 sg=0 splits=2":          "only conv2d_bwd_filter splits",
		"wx=8 wy=1 tm=64 tn=64 tk=4 direct=1 vw=1 sg=0 splits=0":         "over 256",
		"wx=8 wy=8 tm=64 tn=64 tk=16 direct=0 vw=1 sg=0 splits=0 wx=8":   "given twice",
		"wx=8 wy=8 tm=64 tn=64 tk=16 direct=0 vw=1 sg=0 splits=0 x":      "not name=value",
		"wx=8 wy=8 tm=64 tn=64 tk=16 direct=2 vw=1 sg=0 splits=0":        "direct, sg, tx and fwd must be 0 or 1",
		"wx=8 wy=1 tm=8 tn=32 tk=4 direct=1 vw=1 sg=0 splits=0 tx=2":     "direct, sg, tx and fwd must be 0 or 1",
		"wx=8 wy=1 tm=8 tn=32 tk=4 direct=1 vw=1 sg=0 splits=0 fwd=3":    "direct, sg, tx and fwd must be 0 or 1",
		"wx=8 wy=1 tm=8 tn=32 tk=4 direct=1 vw=1 sg=0 splits=0 fwd=1":    "only conv2d_bwd_data and conv2d_bwd_filter have a forward form",
		"wx=8 wy=1 tm=8 tn=32 tk=4 direct=1 vw=1 sg=1 splits=0 tx=1":     "tx=1 (texel loads) has no subgroup variant",
		"wx=8 wy=8 tm=64 tn=64 tk=16 direct=0 vw=1 sg=0 splits=70000":    "out of range",
		"mwg=64 nwg=64 kwg=32 mdimc=8 ndimc=2 vw=16 lvw=16":              `unknown name "mwg"`,
		"wx=0 wy=8 tm=64 tn=64 tk=16 direct=0 vw=1 sg=0 splits=0":        "must be positive",
		"wx=8 wy=8 tm=64 tn=64 tk=16 direct=0 vw=1 sg=0 splits=300 ":     "at most 256",
		"wx=256 wy=1 tm=1 tn=256 tk=8 direct=0 vw=3 sg=0 splits=0":       "load width must be 1 or 4",
		"wx=1 wy=1 tm=1 tn=1 tk=1 direct=0 vw=1 sg=0 splits=0 tk=1 tk=1": "given twice",
	} {
		err := d.CheckTile(g, c)
		require.Error(t, err, "%q", c)
		assert.Contains(t, err.Error(), want, "%q", c)
		assert.Contains(t, err.Error(), "gemm M30 N20 K10 B^T", "the error names the dispatch")
		assert.EqualError(t, d.SetTile(g, c), err.Error())
		assert.EqualError(t, d.DispatchTile(c, g), err.Error())
	}
	wide := backend.Gemm{M: 1, N: 65536 * 257, K: 1, Alpha: 1}
	assert.ErrorContains(t, d.CheckTile(wide, "wx=64 wy=1 tm=2 tn=256 tk=8 direct=0 vw=1 sg=0 splits=0"), "over the limit of 65535")
	assert.ErrorContains(t, d.CheckTile(backend.Conv2DBwdFilter{Conv2DShape: backend.NewConv2DShape(1, 256, 12, 12, 384, 3, 3, 1, 1)},
		"wx=8 wy=8 tm=64 tn=64 tk=16 direct=0 vw=1 sg=0 splits=256"), "exceed the device's maxStorageBufferRange")

	tx := backend.TileConfig("wx=8 wy=1 tm=8 tn=32 tk=4 direct=1 vw=1 sg=0 splits=0 tx=1")
	require.NoError(t, d.CheckTile(g, tx))
	assert.ErrorContains(t, d.CheckTile(backend.Gemm{M: 2048, N: 16, K: 1024, Alpha: 1}, tx),
		"operand 0 (2097152 floats) exceeds the device's maxTexelBufferElements 1048576 (1 floats per texel)")

	set := backend.TileConfig("wx=8 wy=1 tm=8 tn=32 tk=4 direct=1 vw=1 sg=0 splits=0")
	require.NotEqual(t, def, set)
	require.NoError(t, d.SetTile(g, set))
	passes, err := d.plan(g, planBuffers(g.BufferSizes()))
	require.NoError(t, err)
	assert.Equal(t, []uint32{8, 1, 8, 32, 4, 1, 1}, passes[0].spec)
	assert.Equal(t, [3]uint32{1, 4, 1}, passes[0].groups)
	other := backend.Gemm{M: 30, N: 20, K: 11, TransB: 1, Alpha: 1}
	passes, err = d.plan(other, planBuffers(other.BufferSizes()))
	require.NoError(t, err)
	assert.Equal(t, d.defaultCfg(other).spec(), passes[0].spec, "another shape keeps its default")
	require.NoError(t, d.SetTile(g, ""))
	passes, err = d.plan(g, planBuffers(g.BufferSizes()))
	require.NoError(t, err)
	assert.Equal(t, d.defaultCfg(g).spec(), passes[0].spec)
	assert.Panics(t, func() { d.DefaultTile(backend.Fill{N: 3}) })
}

// TestTexelPlan checks that a texel configuration binds gemm's operands as
// texel buffers of one float (four with vw=4) and C as a storage buffer,
// through the <kernel>_tx module with the storage variant's constants.
func TestTexelPlan(t *testing.T) {
	d := planDevice(128 << 20)
	d.limits.MaxTexelBufferElements = 1 << 20
	for _, c := range []struct {
		g     backend.Gemm
		cfg   backend.TileConfig
		texel uint8
	}{
		{backend.Gemm{M: 30, N: 20, K: 10, TransB: 1, Alpha: 1}, "wx=8 wy=1 tm=8 tn=32 tk=4 direct=1 vw=1 sg=0 splits=0 tx=1", 1},
		{backend.Gemm{M: 30, N: 64, K: 12, Alpha: 1}, "wx=8 wy=1 tm=8 tn=32 tk=4 direct=1 vw=4 sg=0 splits=0 tx=1", 4},
	} {
		require.NoError(t, d.SetTile(c.g, c.cfg))
		passes, err := d.plan(c.g, planBuffers(c.g.BufferSizes()))
		require.NoError(t, err)
		require.Len(t, passes, 1)
		assert.Equal(t, "gemm_tx", passes[0].module)
		assert.Equal(t, []uint32{8, 1, 8, 32, 4, 1, uint32(c.texel)}, passes[0].spec)
		texels := []uint8{}
		for _, b := range passes[0].binds {
			texels = append(texels, b.texel)
		}
		assert.Equal(t, []uint8{c.texel, c.texel, 0}, texels, "A and B texel buffers, C a storage buffer")
		assert.Equal(t, uint8(3), texelMask(passes[0].binds))
	}
	g := backend.NewConv2DShape(2, 3, 9, 9, 5, 3, 3, 1, 1)
	tx := backend.TileConfig("wx=8 wy=1 tm=8 tn=32 tk=1 direct=1 vw=1 sg=0 splits=1 tx=1")
	for _, c := range []struct {
		p      backend.Params
		module string
		texels []uint8
	}{
		{backend.Conv2DFwd{Conv2DShape: g}, "conv2d_fwd_tx", []uint8{1, 1, 0, 0}},
		{backend.Conv2DBwdData{Conv2DShape: g}, "conv2d_bwd_data_tx", []uint8{1, 1, 0, 1}},
		{backend.Conv2DBwdFilter{Conv2DShape: g}, "conv2d_bwd_filter_tx", []uint8{1, 1, 0, 0, 0, 1}},
	} {
		cfg := tx
		if c.p.Kernel() != backend.KConv2DBwdFilter {
			cfg = "wx=8 wy=1 tm=8 tn=32 tk=1 direct=1 vw=1 sg=0 splits=0 tx=1"
		}
		require.NoError(t, d.SetTile(c.p, cfg))
		passes, err := d.plan(c.p, planBuffers(c.p.BufferSizes()))
		require.NoError(t, err)
		require.Len(t, passes, 1)
		assert.Equal(t, c.module, passes[0].module)
		var texels []uint8
		for _, b := range passes[0].binds {
			texels = append(texels, b.texel)
		}
		assert.Equal(t, c.texels, texels, "%s: the operands and the ReLU mask texel buffers, the outputs storage buffers", c.p.Kernel())
	}
}

// TestTileTextRoundTrip checks that every candidate parses back to itself.
func TestTileTextRoundTrip(t *testing.T) {
	d := planDevice(128 << 20)
	d.info.Type = backend.CPUDevice
	for _, c := range d.tileSpace(backend.KGemm) {
		got, err := parseTile(c.config())
		require.NoError(t, err)
		assert.Equal(t, c, got)
	}
}

// TestWasteRefusedOnlyWhenChoosing: a 32x8 direct block is refused for a
// gemm of 16 columns (most lanes would idle) when a configuration is
// chosen (CheckTile, TileCandidates), not when the tuner checks it for
// correctness on its small cases: forced through WithTile, it passes
// every check case of a 512-column gemm on lavapipe, where it is admitted.
func TestWasteRefusedOnlyWhenChoosing(t *testing.T) {
	dev := backendtest.OpenOrSkip(t, openDefault)
	defer dev.Close()
	d := dev.(*Device)
	c := backend.TileConfig("wx=8 wy=1 tm=32 tn=64 tk=4 direct=1 vw=1 sg=0 splits=0")
	small := backend.Gemm{M: 16, N: 16, K: 40, Alpha: 1}
	assert.ErrorContains(t, d.CheckTile(small, c), "most lanes would idle")
	assert.NotContains(t, d.TileCandidates(small), c)
	big := backend.Gemm{M: 192, N: 512, K: 128, Alpha: 1}
	require.NoError(t, d.CheckTile(big, c))
	r := backendtest.NewRunner(backend.WithTile(dev, c))
	defer r.Close()
	cases := backendtest.CheckCases(big)
	require.NotEmpty(t, cases)
	for _, cs := range cases {
		res := r.RunCase(cs)
		assert.True(t, res.Pass, "%s: %v %s", cs.FullName(), res.Err, res.Detail())
	}
}

// TestModulesHashCoversAlgoChoice checks that the identity's hash changes
// with the SPIR-V of a tiled module and of a Winograd transform (the cached
// algorithm choices were timed with them), and not with that of a module
// the tuner never times.
func TestModulesHashCoversAlgoChoice(t *testing.T) {
	want := modulesHash(shaders.Vulkan.ReadFile)
	for name, changes := range map[string]bool{
		"vulkan/gemm.spv": true, "vulkan/winograd_input.spv": true, "vulkan/winograd_dw.spv": true, "vulkan/relu_fwd.spv": false,
		"vulkan/winograd_output4_tx.spv": true, "vulkan/winograd_filter4.spv": true, "vulkan/winograd_input_vec4_tx.spv": true,
	} {
		got := modulesHash(func(n string) ([]byte, error) {
			b, err := shaders.Vulkan.ReadFile(n)
			if n == name {
				b = append(slices.Clone(b), 0)
			}
			return b, err
		})
		if changes {
			assert.NotEqual(t, want, got, "changing %s must change the hash", name)
		} else {
			assert.Equal(t, want, got, "changing %s must leave the hash", name)
		}
	}
}

// TestCPUCandidatesTryTexelsFirst checks that on a CPU device with
// subgroups (lavapipe's limits) the first candidate after the default of
// fc.3's three products at batch 128 (plain, B^T, A^T) reads its operands
// as 4-wide texels, and that texel loads do not lead on a GPU.
func TestCPUCandidatesTryTexelsFirst(t *testing.T) {
	gemms := []backend.Gemm{
		{M: 128, N: 2048, K: 2048, Alpha: 1},
		{M: 128, N: 2048, K: 2048, TransB: 1, Alpha: 1},
		{M: 2048, N: 2048, K: 128, TransA: 1, Alpha: 1},
	}
	for _, typ := range []backend.DeviceType{backend.CPUDevice, backend.DiscreteGPU} {
		d := planDevice(128 << 20)
		d.limits.MaxTexelBufferElements = 128 << 20
		d.info.Type = typ
		d.phys = &physical{subgroup: subgroupProps{size: 8, stages: subgroupCompute, ops: subgroupBallot}}
		for _, q := range gemms {
			cands := d.TileCandidates(q)
			require.Greater(t, len(cands), 1)
			c, err := parseTile(cands[1])
			require.NoError(t, err)
			if typ == backend.CPUDevice {
				assert.Equal(t, [2]uint32{1, 4}, [2]uint32{c.tx, c.vw}, "%s on %s: %s", q.Shape(), typ, cands[1])
			} else {
				assert.Zero(t, c.tx, "%s on %s: %s", q.Shape(), typ, cands[1])
			}
		}
	}
}

// TestCPUConvCandidatesFit48Channels: with 48 output channels (cpu-quick's
// conv.0) a CPU device first tries the 24-row texel block, which covers
// them in two tiles where 32 rows pad them to 64; with 128 it keeps 32.
func TestCPUConvCandidatesFit48Channels(t *testing.T) {
	d := planDevice(128 << 20)
	d.limits.MaxTexelBufferElements = 128 << 20
	d.info.Type = backend.CPUDevice
	d.phys = &physical{subgroup: subgroupProps{size: 8, stages: subgroupCompute, ops: subgroupBallot}}
	for _, tc := range []struct {
		k  int
		tm uint32
	}{{48, 24}, {128, 32}} {
		g := backend.NewConv2DShape(128, 1, 65, 65, tc.k, 11, 11, 4, 1)
		for _, p := range []backend.Params{backend.Conv2DFwd{Conv2DShape: g}, backend.Conv2DBwdFilter{Conv2DShape: g}} {
			cands := d.TileCandidates(p)
			require.Greater(t, len(cands), 1)
			c, err := parseTile(cands[1])
			require.NoError(t, err)
			assert.Equal(t, [2]uint32{1, tc.tm}, [2]uint32{c.tx, c.tm}, "%s %s: %s", p.Kernel(), p.Shape(), cands[1])
		}
	}
}

// TestConvFwdVec4Plan: conv2d_fwd with 4-wide loads reads the filter as a
// texel buffer of four floats per texel and the input as one of one; it
// needs texel loads and a filter length C*R*S that 4 divides, and the
// backward convolutions have no 4-wide loads.
func TestConvFwdVec4Plan(t *testing.T) {
	d := planDevice(128 << 20)
	d.limits.MaxTexelBufferElements = 1 << 20
	cfg := backend.TileConfig("wx=8 wy=1 tm=32 tn=64 tk=4 direct=1 vw=4 sg=0 splits=0 tx=1")
	g := backend.NewConv2DShape(3, 4, 9, 7, 13, 3, 3, 1, 1)
	p := backend.Conv2DFwd{Conv2DShape: g}
	require.NoError(t, d.SetTile(p, cfg))
	passes, err := d.plan(p, planBuffers(p.BufferSizes()))
	require.NoError(t, err)
	require.Len(t, passes, 1)
	assert.Equal(t, "conv2d_fwd_tx", passes[0].module)
	var texels []uint8
	for _, b := range passes[0].binds {
		texels = append(texels, b.texel)
	}
	assert.Equal(t, []uint8{1, 4, 0, 0}, texels, "x one float per texel, w four, bias and y storage buffers")

	odd := backend.Conv2DFwd{Conv2DShape: backend.NewConv2DShape(3, 3, 9, 7, 13, 3, 3, 1, 1)}
	assert.ErrorContains(t, d.CheckTile(odd, cfg), "27 is not a multiple of 4")
	assert.ErrorContains(t, d.CheckTile(p, "wx=8 wy=1 tm=32 tn=64 tk=4 direct=1 vw=4 sg=0 splits=0"), "only with texel loads (tx=1)")
	assert.ErrorContains(t, d.CheckTile(backend.Conv2DBwdData{Conv2DShape: g}, cfg), "only gemm and conv2d_fwd have 4-wide loads")
}
