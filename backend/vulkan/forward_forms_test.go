package vulkan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
)

// fwdConfigs are the forward-form configurations (fwd=1) of
// conv2d_bwd_data's tile space on d.
func fwdConfigs(d *Device) []backend.TileConfig { return forwardForms(d, backend.KConv2DBwdData) }

// forwardForms are the forward-form configurations (fwd=1) of kernel k's
// tile space on d.
func forwardForms(d *Device, k backend.Kernel) []backend.TileConfig {
	var out []backend.TileConfig
	for _, c := range d.tileSpace(k) {
		if c.fwd == 1 {
			out = append(out, c.config())
		}
	}
	return out
}

// planForward plans p on d with texel configuration cfg in its forward
// form (fwd=1), over buffers of p's sizes allocated on d (released at the
// end of the test).
func planForward(t *testing.T, d *Device, p backend.Params, cfg tileCfg) ([]*pass, []*Buffer) {
	t.Helper()
	cfg.fwd = 1
	require.NoError(t, d.SetTile(p, cfg.config()))
	var bufs []*Buffer
	for _, n := range p.BufferSizes() {
		b, err := d.Alloc(n)
		require.NoError(t, err)
		t.Cleanup(b.Release)
		bufs = append(bufs, b.(*Buffer))
	}
	passes, err := d.plan(p, bufs)
	require.NoError(t, err)
	return passes, bufs
}

// runForwardForms runs kernel k's conformance cases on d with every
// forward-form configuration of the CPU and the GPU spaces (the cases a
// configuration refuses are skipped; at least three must run for each).
func runForwardForms(t *testing.T, d *Device, k backend.Kernel, want int) {
	t.Helper()
	cpu, gpu := planDevice(128<<20), planDevice(128<<20)
	cpu.info.Type, gpu.info.Type = backend.CPUDevice, backend.DiscreteGPU
	var vs []backendtest.TileVariant
	for _, c := range append(forwardForms(cpu, k), forwardForms(gpu, k)...) {
		vs = append(vs, backendtest.TileVariant{Kernel: k, Config: c})
		runs := 0
		for _, cs := range backendtest.CasesOf(k) {
			if !cs.Large && d.CheckTile(cs.Params, c) == nil {
				runs++
			}
		}
		assert.GreaterOrEqual(t, runs, 3, "%s runs too few cases", c)
	}
	require.Len(t, vs, want)
	rep := backendtest.RunTileVariants([]backend.Device{d}, vs)
	for _, msg := range rep.Failures {
		t.Error(msg)
	}
	t.Logf("%d case runs of %d configurations", rep.Runs, len(vs))
}

// TestBwdDataForwardRefusals: the forward form takes stride-1, unmasked
// input gradients with a padding of at most R-1, S-1, and says why not.
func TestBwdDataForwardRefusals(t *testing.T) {
	d := planDevice(128 << 20)
	d.info.Type = backend.CPUDevice
	cfgs := fwdConfigs(d)
	require.NotEmpty(t, cfgs)
	c := cfgs[0]
	ok := backend.Conv2DBwdData{Conv2DShape: backend.NewConv2DShape(2, 5, 7, 9, 8, 3, 3, 1, 1)}
	require.NoError(t, d.CheckTile(ok, c))
	strided := backend.Conv2DBwdData{Conv2DShape: backend.NewConv2DShape(2, 5, 7, 9, 8, 3, 3, 2, 1)}
	assert.ErrorContains(t, d.CheckTile(strided, c), "needs stride 1, not 2x2")
	masked := ok
	masked.MaskRelu = 1
	assert.ErrorContains(t, d.CheckTile(masked, c), "reads dy unmasked")
	wide := backend.Conv2DBwdData{Conv2DShape: backend.NewConv2DShape(2, 5, 7, 9, 8, 3, 3, 1, 3)}
	assert.ErrorContains(t, d.CheckTile(wide, c), "padding 3x3 over the 3x3 kernel's 2x2")
	small := planDevice(uint32(4 * ok.XLen() / 2))
	small.info.Type = backend.CPUDevice
	staged := fwdConfigs(gpu(t))[0]
	assert.ErrorContains(t, small.CheckTile(ok, staged), "past maxStorageBufferRange", "dx past maxStorageBufferRange")
	odd := backend.Conv2DBwdData{Conv2DShape: backend.NewConv2DShape(2, 5, 7, 9, 7, 3, 3, 1, 1)}
	for _, c := range cfgs {
		cfg, err := parseTile(c)
		require.NoError(t, err)
		if cfg.vw == 4 {
			assert.ErrorContains(t, d.CheckTile(odd, c), "not a multiple of 4", "K*R*S = 63: %s", c)
		} else {
			assert.NoError(t, d.CheckTile(odd, c))
		}
	}
	g := gpu(t)
	for _, c := range fwdConfigs(g) {
		cfg, err := parseTile(c)
		require.NoError(t, err)
		assert.Zero(t, cfg.direct, "GPUs try the forward form with staged tiles: %s", c)
		assert.NoError(t, g.CheckTile(ok, c))
	}
	assert.Len(t, fwdConfigs(g), 2)
}

// gpu is a planning device of GPU type.
func gpu(t *testing.T) *Device {
	t.Helper()
	d := planDevice(128 << 20)
	d.info.Type = backend.DiscreteGPU
	return d
}

// TestBwdDataForwardPlan: the forward form is the flip of w into scratch
// (the rotated, K/C-swapped filter, then the zero bias at an aligned
// offset) and conv2d_fwd over dy with the forward shape: the pad R-1-PadH,
// K and C swapped, the output dx.
func TestBwdDataForwardPlan(t *testing.T) {
	d := openOrSkip(t, Options{})
	defer func() { require.NoError(t, d.Close()) }()
	q := backend.Conv2DBwdData{Conv2DShape: backend.NewConv2DShape(3, 5, 7, 6, 12, 5, 3, 1, 1)}
	q.PadW = 2
	q.OW = 8
	require.NoError(t, q.Validate())
	passes, bufs := planForward(t, d, q, texelCfg(8, 32, 8, 4, 4))
	require.Len(t, passes, 2)
	flip, product := passes[0], passes[1]
	assert.Equal(t, "conv2d_filter_flip", flip.module)
	wl := int(q.K * q.C * q.R * q.S)
	require.Equal(t, 900, wl)
	const off = 960 // 900 rounded up to a multiple of flipBiasAlign
	assert.Equal(t, pushBytes(flipPush{q, off}), flip.push)
	assert.Same(t, bufs[1], flip.binds[0].b)
	assert.False(t, flip.binds[0].write)
	scratch := flip.binds[1]
	assert.True(t, scratch.write)
	assert.Equal(t, off+int(q.C), scratch.elems)
	want := backend.Conv2DFwd{Conv2DShape: backend.Conv2DShape{N: 3, C: 12, H: q.OH, W: q.OW, K: 5, R: 5, S: 3,
		StrideH: 1, StrideW: 1, PadH: 3, PadW: 0, OH: 7, OW: 6}}
	require.NoError(t, want.Validate())
	assert.Equal(t, "conv2d_fwd_tx", product.module)
	assert.Equal(t, pushBytes(want), product.push)
	assert.Equal(t, []uint8{1, 4, 0, 0}, texelsOf(product), "dy gathered, the flipped filter 4-wide, bias and dx storage buffers")
	assert.Same(t, bufs[0], product.binds[0].b)
	assert.Same(t, scratch.b, product.binds[1].b)
	assert.Equal(t, wl, product.binds[1].elems)
	assert.Equal(t, binding{b: scratch.b, elems: int(q.C), off: off}, product.binds[2])
	assert.Same(t, bufs[2], product.binds[3].b)
	assert.True(t, product.binds[3].write)
}

// TestBwdDataForwardConformance runs conv2d_bwd_data's conformance cases
// with every forward-form configuration of the CPU and the GPU spaces on
// device 0; the cases a configuration refuses (strides, masks, a filter
// length 4 does not divide for 4-wide loads) are skipped, and at least
// three must run for each.
func TestBwdDataForwardConformance(t *testing.T) {
	d := openOrSkip(t, Options{})
	defer func() { require.NoError(t, d.Close()) }()
	runForwardForms(t, d, backend.KConv2DBwdData, 6)
}

// TestBwdFilterForwardRefusals: the filter gradient's forward form takes
// stride 1 with a padding of at most half the kernel, masked or not, no
// split-K, and says why not.
func TestBwdFilterForwardRefusals(t *testing.T) {
	d := planDevice(128 << 20)
	d.info.Type = backend.CPUDevice
	cfgs := forwardForms(d, backend.KConv2DBwdFilter)
	require.Len(t, cfgs, 4)
	c := cfgs[2] // single loads
	ok := backend.Conv2DBwdFilter{Conv2DShape: backend.NewConv2DShape(2, 5, 7, 9, 8, 3, 3, 1, 1), MaskRelu: 1}
	require.NoError(t, d.CheckTile(ok, c))
	strided := backend.Conv2DBwdFilter{Conv2DShape: backend.NewConv2DShape(2, 5, 7, 9, 8, 3, 3, 2, 1)}
	assert.ErrorContains(t, d.CheckTile(strided, c), "needs stride 1, not 2x2")
	wide := backend.Conv2DBwdFilter{Conv2DShape: backend.NewConv2DShape(2, 5, 7, 9, 8, 3, 3, 1, 2)}
	assert.ErrorContains(t, d.CheckTile(wide, c), "padding 2x2 over half the 3x3 kernel")
	// The swapped x has C+1 = 10 planes per image where x has 9: a device
	// whose storage range holds x, dy and dw but not it.
	wideC := backend.Conv2DBwdFilter{Conv2DShape: backend.NewConv2DShape(2, 9, 7, 9, 2, 3, 3, 1, 1)}
	f, err := bwdFilterForward(wideC)
	require.NoError(t, err)
	largest := max(wideC.XLen(), wideC.YLen(), wideC.WLen())
	require.Greater(t, f.XLen(), largest)
	tight := planDevice(uint32(4 * largest))
	tight.info.Type = backend.DiscreteGPU
	assert.NoError(t, tight.CheckTile(wideC, "wx=16 wy=16 tm=64 tn=64 tk=16 direct=0 vw=1 sg=0 splits=0"))
	assert.ErrorContains(t, tight.CheckTile(wideC, forwardForms(tight, backend.KConv2DBwdFilter)[0]), "its forward form")
	cfg, err := parseTile(c)
	require.NoError(t, err)
	cfg.splits = 4
	assert.ErrorContains(t, d.CheckTile(ok, cfg.config()), "does not split its reduction")
	f, err = bwdFilterForward(ok)
	require.NoError(t, err)
	assert.Equal(t, backend.Conv2DShape{N: 6, C: 2, H: 7, W: 9, K: 8, R: 7, S: 9, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, OH: 3, OW: 3},
		f.Conv2DShape, "C+1 images of N channels, dy's planes as the kernel, the layer's kernel as the output")
}

// TestBwdFilterForwardPlan: the forward form is the swaps of x (with a row
// of ones) and of dy (masked), the zero bias, conv2d_fwd and the unswap
// into dw and db.
func TestBwdFilterForwardPlan(t *testing.T) {
	d := openOrSkip(t, Options{})
	defer func() { require.NoError(t, d.Close()) }()
	q := backend.Conv2DBwdFilter{Conv2DShape: backend.NewConv2DShape(4, 6, 5, 7, 10, 3, 3, 1, 1), MaskRelu: 1}
	passes, bufs := planForward(t, d, q, texelCfg(8, 24, 8, 4, 4))
	var modules []string
	for _, p := range passes {
		modules = append(modules, p.module)
	}
	require.Equal(t, []string{"swap_leading_tx", "swap_leading_tx", "fill", "conv2d_fwd_tx", "conv2d_bwd_filter_unswap"}, modules)
	assert.Equal(t, pushBytes(swapPush{A: 4, B: 6, P: 35, Ones: 1}), passes[0].push)
	assert.Equal(t, pushBytes(swapPush{A: 4, B: 10, P: 35, Mask: 1}), passes[1].push)
	assert.Same(t, bufs[0], passes[0].binds[0].b)
	assert.Same(t, bufs[1], passes[1].binds[0].b)
	assert.Same(t, bufs[4], passes[1].binds[2].b, "the ReLU output masks dy")
	f, err := bwdFilterForward(q)
	require.NoError(t, err)
	assert.Equal(t, pushBytes(f), passes[3].push)
	assert.Equal(t, []uint8{1, 4, 0, 0}, texelsOf(passes[3]))
	assert.Equal(t, pushBytes(q), passes[4].push)
	assert.Same(t, bufs[2], passes[4].binds[1].b)
	assert.Same(t, bufs[3], passes[4].binds[2].b)
}

// TestBwdFilterForwardConformance runs conv2d_bwd_filter's conformance
// cases with every forward-form configuration of the CPU and GPU spaces on
// device 0 (the cases a configuration refuses are skipped; at least three
// run for each), with its swaps in their texel-read and their
// storage-buffer forms.
func TestBwdFilterForwardConformance(t *testing.T) {
	for _, opts := range []Options{{}, {storageReads: true}} {
		d := openOrSkip(t, opts)
		runForwardForms(t, d, backend.KConv2DBwdFilter, 6)
		require.NoError(t, d.Close())
	}
}
