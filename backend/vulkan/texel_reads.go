package vulkan

import "github.com/crossgrad/crossgrad/backend"

// texelReadKernels are the streaming kernels with a texel-read form, the
// <kernel>_tx module (shaders/vulkan/<kernel>.glsl built with
// TEXEL_READS), and the bindings that form reads as uniform texel buffers
// of single floats (of 32-bit words for the kernels of texelWordKernels;
// an index past the params' buffers is a binding the planner adds). On lavapipe (cpu-quick at batch 128) the form ran the
// Winograd input transforms up to 1.6x as fast as their storage-buffer form:
// Mesa's llvmpipe loads a storage buffer one SIMD lane at a time and
// fetches texels for all lanes at once.
var texelReadKernels = map[backend.Kernel][]int{
	backend.KWinogradInput:  {0, 2},
	backend.KWinogradDy:     {0, 2},
	backend.KWinogradOutput: {0, 1},
	backend.KWinogradFilter: {0},
	backend.KWinogradDw:     {0, 1},
	backend.KMaxPoolFwd:     {0},
	backend.KReluFwd:        {0},
	backend.KDropoutFwd:     {0},
	backend.KDropoutBwd:     {0},
	backend.KBiasAdd:        {1},
	backend.KResizeBilinear: {0, 2},
}

// texelWordKernels are the kernels of texelReadKernels whose texel reads
// are R32_UINT words: resize_bilinear's packed bytes and its coefficient
// table, which R32_SFLOAT views need not carry bit for bit.
var texelWordKernels = map[backend.Kernel]bool{backend.KResizeBilinear: true}

// cpuForms reports whether the device runs the CPU forms of the streaming
// kernels (texel reads here, maxpool_bwd's scatter in pool_scatter.go, the
// vec4 forms in vec4_forms.go): on CPU devices, unless
// Options.storageReads.
func (d *Device) cpuForms() bool {
	return d.info.Type == backend.CPUDevice && !d.opts.storageReads
}

// texelReads switches each pass of kernel k that runs k's own module to the
// texel-read form when the device streams texels and every binding the
// form reads fits a texel buffer: at most maxTexelBufferElements floats,
// at a window offset that is a multiple of minTexelBufferOffsetAlignment.
// Other passes are left as they are.
func (d *Device) texelReads(k backend.Kernel, passes []*pass) {
	reads, ok := texelReadKernels[k]
	if !ok || !d.cpuForms() {
		return
	}
	for _, ps := range passes {
		if ps.module != string(k) || !d.fitTexels(ps.binds, reads) {
			continue
		}
		binds := make([]binding, len(ps.binds))
		copy(binds, ps.binds)
		for _, i := range reads {
			binds[i].texel, binds[i].words = 1, texelWordKernels[k]
		}
		ps.module, ps.binds = string(k)+"_tx", binds
	}
}

// fitTexels reports whether bindings reads of binds fit single-float texel
// buffers and none is a buffer the pass writes (an in-place relu_fwd or
// dropout keeps its storage-buffer form).
func (d *Device) fitTexels(binds []binding, reads []int) bool {
	align := max(1, int(d.limits.MinTexelBufferOffsetAlignment))
	for _, i := range reads {
		b := binds[i]
		if b.write || uint64(max(b.elems, 1))*4 > d.maxTexelRange(1) || (b.off*4)%align != 0 {
			return false
		}
		for _, w := range binds {
			if w.write && w.b == b.b {
				return false
			}
		}
	}
	return true
}
