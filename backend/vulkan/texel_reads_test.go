package vulkan

import (
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	"github.com/crossgrad/crossgrad/shaders"
)

// texelsOf lists the texel width of each binding of ps.
func texelsOf(ps *pass) []uint8 {
	out := []uint8{}
	for _, b := range ps.binds {
		out = append(out, b.texel)
	}
	return out
}

// TestTexelReadsPlan checks which passes take the texel-read forms: those
// of the streaming kernels on a CPU device, with only their read bindings
// as texel buffers; never on a GPU, with storageReads, or where a read
// binding exceeds maxTexelBufferElements or is written by the pass (an
// in-place relu_bwd).
func TestTexelReadsPlan(t *testing.T) {
	cpu := planDevice(128 << 20)
	cpu.info.Type = backend.CPUDevice
	cpu.limits.MinTexelBufferOffsetAlignment = 16
	gpu := planDevice(128 << 20)
	gpu.info.Type = backend.DiscreteGPU
	off := planDevice(128 << 20)
	off.info.Type, off.opts.storageReads = backend.CPUDevice, true
	in := backend.WinogradInput{N: 3, C: 5, H: 5, W: 5, PadH: 1, PadW: 1, R: 3, S: 3, OH: 5, OW: 5} // 27 tiles: no vec4 form
	masked := in
	masked.MaskRelu = 1
	dy := backend.WinogradDy{N: 2, K: 3, OH: 5, OW: 7, MaskRelu: 1}
	outp := backend.WinogradOutput{N: 2, K: 3, OH: 5, OW: 7, Bias: 1}
	for _, c := range []struct {
		p      backend.Params
		texels []uint8
	}{
		{in, []uint8{1, 0, 1}},
		{masked, []uint8{1, 0, 1}},
		{dy, []uint8{1, 0, 1}},
		{outp, []uint8{1, 1, 0}},
	} {
		require.NoError(t, c.p.Validate(), "%T", c.p)
		k := string(c.p.Kernel())
		passes, err := cpu.plan(c.p, planBuffers(c.p.BufferSizes()))
		require.NoError(t, err, k)
		require.Len(t, passes, 1, k)
		assert.Equal(t, k+"_tx", passes[0].module)
		assert.Equal(t, c.texels, texelsOf(passes[0]), k)
		for _, d := range []*Device{gpu, off} {
			passes, err := d.plan(c.p, planBuffers(c.p.BufferSizes()))
			require.NoError(t, err, k)
			assert.Equal(t, k, passes[0].module, "%s on %v (storageReads %v)", k, d.info.Type, d.opts.storageReads)
			assert.Zero(t, texelMask(passes[0].binds), k)
		}
	}
	relu := backend.ReluFwd{N: 37}
	passes, err := cpu.plan(relu, planBuffers(relu.BufferSizes()))
	require.NoError(t, err)
	assert.Equal(t, "relu_fwd_tx", passes[0].module)
	inPlace := planBuffers(relu.BufferSizes())
	inPlace[1] = inPlace[0]
	passes, err = cpu.plan(relu, inPlace)
	require.NoError(t, err)
	assert.Equal(t, "relu_fwd", passes[0].module, "y is x: the read of a written buffer stays a storage buffer")
	assert.Zero(t, texelMask(passes[0].binds))

	small := planDevice(128 << 20)
	small.info.Type = backend.CPUDevice
	small.limits.MaxTexelBufferElements = uint32(in.BufferSizes()[0] - 1)
	passes, err = small.plan(in, planBuffers(in.BufferSizes()))
	require.NoError(t, err)
	assert.Equal(t, "winograd_input", passes[0].module, "x exceeds maxTexelBufferElements")
}

// TestResizeTexelWordsPlan: on a CPU device resize_bilinear reads its source
// and its coefficient table as R32_UINT texel buffers (words), dst stays a
// storage buffer; a GPU and storageReads keep the storage-buffer form.
func TestResizeTexelWordsPlan(t *testing.T) {
	q := backend.ResizeBilinear{N: 3, InH: 28, InW: 28, OutH: 65, OutW: 65, Packed: 1}
	require.NoError(t, q.Validate())
	table := &Buffer{n: len(resizeTableWords(28, 28, 65, 65))}
	for _, c := range []struct {
		typ          backend.DeviceType
		storageReads bool
		module       string
		texels       []uint8
		words        []bool
	}{
		{backend.CPUDevice, false, "resize_bilinear_tx", []uint8{1, 0, 1}, []bool{true, false, true}},
		{backend.CPUDevice, true, "resize_bilinear", []uint8{0, 0, 0}, []bool{false, false, false}},
		{backend.DiscreteGPU, false, "resize_bilinear", []uint8{0, 0, 0}, []bool{false, false, false}},
	} {
		d := planDevice(128 << 20)
		d.info.Type, d.opts.storageReads = c.typ, c.storageReads
		d.tables = map[resizeKey]*Buffer{{28, 28, 65, 65}: table}
		passes, err := d.plan(q, planBuffers(q.BufferSizes()))
		require.NoError(t, err)
		require.Len(t, passes, 1)
		ps := passes[0]
		assert.Equal(t, c.module, ps.module, "%v storageReads %v", c.typ, c.storageReads)
		assert.Equal(t, c.texels, texelsOf(ps))
		var words []bool
		for _, b := range ps.binds {
			words = append(words, b.words)
		}
		assert.Equal(t, c.words, words)
		assert.Same(t, table, ps.binds[2].b, "the table is the third binding")
	}
}

// scatterClasses lists the (PH, PW) classes of the maxpool_bwd_scatter
// passes of ps, after checking that a fill of dx comes first.
func scatterClasses(t *testing.T, ps []*pass) [][2]uint32 {
	t.Helper()
	require.NotEmpty(t, ps)
	assert.Equal(t, "fill", ps[0].module)
	var out [][2]uint32
	for _, p := range ps[1:] {
		assert.Equal(t, "maxpool_bwd_scatter", p.module)
		assert.Equal(t, []uint8{1, 1, 0}, texelsOf(p), "dy and idx texel buffers, dx a storage buffer")
		assert.True(t, p.binds[2].write)
		var sp scatterPush
		require.Len(t, p.push, len(pushBytes(sp)))
		sp = *(*scatterPush)(unsafe.Pointer(&p.push[0]))
		out = append(out, [2]uint32{sp.PH, sp.PW})
	}
	return out
}

// TestMaxPoolBwdScatterPlan: on a CPU device maxpool_bwd is a fill of dx
// and one scatter pass per class of non-overlapping windows (2x2 classes
// for 3x3 stride 2, one for 2x2 stride 2, 3x1 for a 3x2 window of stride
// 1x2, none past the output's size); a GPU, storageReads, or a window of
// maxpool_bwd split at an offset the texel alignment refuses keep the
// gather pass.
func TestMaxPoolBwdScatterPlan(t *testing.T) {
	cpu := planDevice(128 << 20)
	cpu.info.Type = backend.CPUDevice
	cpu.limits.MinTexelBufferOffsetAlignment = 16
	tall := backend.NewPool2DShape(2, 3, 9, 9, 3, 1, 0)
	tall.KW, tall.StrideW = 2, 2
	tall.OW = (tall.W-tall.KW)/tall.StrideW + 1
	one := backend.NewPool2DShape(1, 2, 3, 3, 3, 2, 0)
	for _, c := range []struct {
		g       backend.Pool2DShape
		classes [][2]uint32
	}{
		{backend.NewPool2DShape(2, 3, 9, 9, 3, 2, 0), [][2]uint32{{0, 0}, {0, 1}, {1, 0}, {1, 1}}},
		{backend.NewPool2DShape(2, 3, 8, 8, 2, 2, 0), [][2]uint32{{0, 0}}},
		{tall, [][2]uint32{{0, 0}, {1, 0}, {2, 0}}},
		{one, [][2]uint32{{0, 0}}},
	} {
		q := backend.MaxPoolBwd{Pool2DShape: c.g}
		require.NoError(t, q.Validate(), "%+v", c.g)
		passes, err := cpu.plan(q, planBuffers(q.BufferSizes()))
		require.NoError(t, err)
		assert.Equal(t, c.classes, scatterClasses(t, passes), "%+v", c.g)
	}
	q := backend.MaxPoolBwd{Pool2DShape: backend.NewPool2DShape(2, 3, 9, 9, 3, 2, 0)}
	gpu := planDevice(128 << 20)
	gpu.info.Type = backend.DiscreteGPU
	off := planDevice(128 << 20)
	off.info.Type, off.opts.storageReads = backend.CPUDevice, true
	for _, d := range []*Device{gpu, off} {
		passes, err := d.plan(q, planBuffers(q.BufferSizes()))
		require.NoError(t, err)
		require.Len(t, passes, 1)
		assert.Equal(t, "maxpool_bwd", passes[0].module)
		assert.Zero(t, texelMask(passes[0].binds))
	}

	// Split into windows of two planes: dy and idx windows start at 0, 128
	// and 256 bytes, of which a 256-byte texel alignment admits the first
	// and the last.
	split := planDevice(2 * 81 * 4)
	split.info.Type = backend.CPUDevice
	split.limits.MinStorageBufferOffsetAlignment = 4
	split.limits.MinTexelBufferOffsetAlignment = 256
	passes, err := split.plan(q, planBuffers(q.BufferSizes()))
	require.NoError(t, err)
	var modules []string
	for _, ps := range passes {
		modules = append(modules, ps.module)
	}
	assert.Equal(t, []string{"fill", "maxpool_bwd_scatter", "maxpool_bwd_scatter", "maxpool_bwd_scatter", "maxpool_bwd_scatter",
		"maxpool_bwd", "fill", "maxpool_bwd_scatter", "maxpool_bwd_scatter", "maxpool_bwd_scatter", "maxpool_bwd_scatter"}, modules)
}

// TestConformanceStorageReads runs the conformance cases of the kernels
// with texel-read forms through their storage-buffer forms, maxpool_bwd
// through its gather form and adam and relu_bwd through their scalar
// storage-buffer forms (the forms GPUs run), on device 0: on a CPU device
// the plain conformance suite runs the texel-read, scatter and vec4 forms.
func TestConformanceStorageReads(t *testing.T) {
	d := openOrSkip(t, Options{storageReads: true})
	r := backendtest.NewRunner(d)
	defer func() {
		r.Close()
		require.NoError(t, d.Close())
	}()
	runs := map[backend.Kernel]int{}
	kernels := map[backend.Kernel]bool{backend.KMaxPoolBwd: true, backend.KAdam: true, backend.KReluBwd: true} // the gather form, the scalar forms
	for m := range texelReadModules {
		if backend.ParamsFor(backend.Kernel(m)) != nil {
			kernels[backend.Kernel(m)] = true
		}
	}
	for _, c := range backendtest.Cases() {
		if !kernels[c.Kernel()] || c.Large {
			continue
		}
		res := r.RunCase(c)
		if assert.NoError(t, res.Err, res.Name()) && assert.True(t, res.Pass, "%s: %s", res.Name(), res.Detail()) {
			runs[c.Kernel()]++
		}
	}
	for k := range kernels {
		assert.Positive(t, runs[k], "no case of %s ran", k)
	}
	t.Logf("storage-buffer form cases: %v", runs)
}

// TestTexelReadKernelsHaveModules checks that every texel-read form has
// its module and, for a kernel's own module, its vec4 form or its
// F(4x4,3x3) module, reads only bindings its kernel reads.
func TestTexelReadKernelsHaveModules(t *testing.T) {
	for k, reads := range texelReadModules {
		_, err := shaders.VulkanSPIRV(k + "_tx")
		assert.NoError(t, err, k)
		assert.True(t, slices.IsSorted(reads), k)
		p := backend.ParamsFor(backend.Kernel(strings.TrimSuffix(strings.TrimSuffix(k, "_vec4"), "4")))
		if p == nil {
			assert.Equal(t, "swap_leading", k, "the internal modules with texel-read forms")
			continue
		}
		roles := p.Buffers()
		for _, i := range reads {
			if assert.Less(t, i, len(roles)+1, k) && i < len(roles) {
				assert.False(t, roles[i].Access.Writes(), "%s binding %d (%s) is written", k, i, roles[i].Name)
			}
		}
	}
}

// TestVec4Plans: adam and relu_bwd run as their vec4 forms (a quarter of
// the invocations, at least three for the tail) on a CPU device when every
// binding starts at a multiple of four elements (relu_bwd in place too),
// else as adam and relu_bwd.
func TestVec4Plans(t *testing.T) {
	cpu, gpu := cpuAndGPUPlanDevices()
	for _, n := range []uint32{1, 7, 4096, 4099} {
		for _, p := range []backend.Params{backend.NewAdam(int(n), 1e-3, 0.9, 0.999, 1e-8, 1), backend.ReluBwd{N: n}} {
			k := string(p.Kernel())
			bufs := planBuffers(p.BufferSizes())
			passes, err := cpu.plan(p, bufs)
			require.NoError(t, err)
			require.Len(t, passes, 1)
			assert.Equal(t, k+"_vec4", passes[0].module, "n=%d", n)
			assert.Equal(t, cpu.groups1D(max(int(n+3)/4, 3)), passes[0].groups, "n=%d", n)
			passes, err = gpu.plan(p, bufs)
			require.NoError(t, err)
			assert.Equal(t, k, passes[0].module)
		}
		inPlace := planBuffers(backend.ReluBwd{N: n}.BufferSizes())
		inPlace[2] = inPlace[1]
		passes, err := cpu.plan(backend.ReluBwd{N: n}, inPlace)
		require.NoError(t, err)
		assert.Equal(t, "relu_bwd_vec4", passes[0].module, "in place")
	}
	q := backend.NewAdam(64, 1e-3, 0.9, 0.999, 1e-8, 1)
	binds := make([]binding, 4)
	for i, b := range planBuffers(q.BufferSizes()) {
		binds[i] = binding{b: b, elems: 62, off: 2, write: i != 1}
	}
	passes, err := cpu.planAdam(q, binds)
	require.NoError(t, err)
	assert.Equal(t, "adam", passes[0].module, "a window at element 2 is not vec4-aligned")
	passes, err = cpu.planReluBwd(backend.ReluBwd{N: 62}, binds[1:])
	require.NoError(t, err)
	assert.Equal(t, "relu_bwd", passes[0].module, "a window at element 2 is not vec4-aligned")
}

// checkWinogradVec4Plan checks the plans of transform p on cpu and gpu:
// module+"_vec4_tx" over invocations/4 on cpu when vec4 (the reads of
// bindings 0 and 2 as texel buffers, the transformed tiles at 1 a storage
// buffer), else module+"_tx"; module on gpu.
func checkWinogradVec4Plan(t *testing.T, cpu, gpu *Device, p backend.Params, module string, vec4 bool, invocations int) {
	t.Helper()
	passes, err := cpu.plan(p, planBuffers(p.BufferSizes()))
	require.NoError(t, err)
	require.Len(t, passes, 1)
	if vec4 {
		assert.Equal(t, module+"_vec4_tx", passes[0].module, "%s", p.Shape())
		assert.Equal(t, cpu.groups1D(invocations/4), passes[0].groups, "%s", p.Shape())
		assert.Equal(t, []uint8{1, 0, 1}, texelsOf(passes[0]), "%s", p.Shape())
	} else {
		assert.Equal(t, module+"_tx", passes[0].module, "%s", p.Shape())
	}
	passes, err = gpu.plan(p, planBuffers(p.BufferSizes()))
	require.NoError(t, err)
	assert.Equal(t, module, passes[0].module)
}

// TestWinogradDyVec4Plan: winograd_dy runs as winograd_dy_vec4_tx (a
// quarter of the invocations, dy and ym as texel buffers) on a CPU device
// for K % 4 == 0, in both transforms and with the mask; as winograd_dy_tx
// for other K or an E window off a multiple of four elements; as
// winograd_dy on a GPU.
func TestWinogradDyVec4Plan(t *testing.T) {
	cpu, gpu := cpuAndGPUPlanDevices()
	for _, k := range []uint32{4, 8, 128, 1, 6, 33} {
		for _, k5 := range []uint32{0, 1} {
			for _, mask := range []uint32{0, 1} {
				p := backend.WinogradDy{N: 3, K: k, OH: 7, OW: 5, K5: k5, MaskRelu: mask}
				checkWinogradVec4Plan(t, cpu, gpu, p, "winograd_dy", k%4 == 0, p.Tiles()*int(k))
			}
		}
	}
	p := backend.WinogradDy{N: 2, K: 8, OH: 3, OW: 3}
	binds := make([]binding, 2)
	for i, b := range planBuffers(p.BufferSizes()) {
		binds[i] = binding{b: b, elems: int(p.BufferSizes()[i]), off: 2 * i, write: i == 1}
	}
	passes, err := cpu.planWinogradDy(p, binds)
	require.NoError(t, err)
	assert.Equal(t, "winograd_dy", passes[0].module, "E at element 2 is not vec4-aligned")
}

// TestWinogradInputVec4Plan: winograd_input runs as
// winograd_input_vec4_tx (a quarter of the invocations) on a CPU device
// when the tiles P are a multiple of 4, for 3x3 and 5x5 blocks and
// F(2x2,5x5), with the mask too; as winograd_input_tx for other P; as
// winograd_input on a GPU.
func TestWinogradInputVec4Plan(t *testing.T) {
	cpu, gpu := cpuAndGPUPlanDevices()
	for _, n := range []uint32{1, 2, 4} {
		for _, r := range []uint32{3, 5} {
			for _, k5 := range []uint32{0, 1} {
				if k5 == 1 && r != 5 {
					continue
				}
				for _, mask := range []uint32{0, 1} {
					p := backend.WinogradInput{N: n, C: 3, H: 5, W: 3, PadH: r / 2, PadW: r / 2, R: r, S: r,
						OH: 5, OW: 3, K5: k5, MaskRelu: mask}
					checkWinogradVec4Plan(t, cpu, gpu, p, "winograd_input", p.Tiles()%4 == 0, p.Tiles()*int(p.Blocks()*p.C))
				}
			}
		}
	}
}

// cpuAndGPUPlanDevices are two plan devices of 128 MiB buffers, a CPU's
// and a discrete GPU's.
func cpuAndGPUPlanDevices() (cpu, gpu *Device) {
	cpu = planDevice(128 << 20)
	cpu.info.Type = backend.CPUDevice
	gpu = planDevice(128 << 20)
	gpu.info.Type = backend.DiscreteGPU
	return cpu, gpu
}
