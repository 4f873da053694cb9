package vulkan

import "github.com/crossgrad/crossgrad/backend"

// texelReadModules are the streaming modules with a texel-read form, the
// <module>_tx module (shaders/vulkan/<module>.glsl built with
// TEXEL_READS), and the bindings that form reads as uniform texel buffers
// of single floats (of 32-bit words for the modules of texelWordModules):
// the kernels' own modules (an index past the params' buffers is a binding
// the planner adds) and internal ones of a kernel's plan. On lavapipe
// (cpu-quick at batch 128) the form ran the Winograd input transforms up
// to 1.6x as fast as their storage-buffer form: Mesa's llvmpipe loads a
// storage buffer one SIMD lane at a time and fetches texels for all lanes
// at once.
var texelReadModules = map[string][]int{
	string(backend.KWinogradInput):  {0, 2},
	"winograd_input_vec4":           {0, 2}, // vec4_forms.go
	string(backend.KWinogradDy):     {0, 2},
	"winograd_dy_vec4":              {0, 2}, // vec4_forms.go
	"winograd_dy4":                  {0, 2}, // F(3x3,4x4), plan.go
	"winograd_dy4_vec4":             {0, 2},
	string(backend.KWinogradOutput): {0, 1},
	"winograd_output4":              {0, 1}, // F(4x4,3x3), plan.go
	string(backend.KWinogradFilter): {0},
	"winograd_filter4":              {0}, // F(4x4,3x3), plan.go
	string(backend.KWinogradDw):     {0, 1},
	"winograd_dw4":                  {0, 1}, // F(3x3,4x4), plan.go
	string(backend.KMaxPoolFwd):     {0},
	string(backend.KReluFwd):        {0},
	string(backend.KDropoutFwd):     {0},
	string(backend.KDropoutBwd):     {0},
	string(backend.KBiasAdd):        {1},
	string(backend.KResizeBilinear): {0, 2},
	"swap_leading":                  {0, 2}, // conv2d_bwd_filter's forward form
}

// texelWordModules are the modules of texelReadModules whose texel reads
// are R32_UINT words: resize_bilinear's packed bytes and its coefficient
// table, which R32_SFLOAT views need not carry bit for bit.
var texelWordModules = map[string]bool{string(backend.KResizeBilinear): true}

// cpuForms reports whether the device runs the CPU forms of the streaming
// kernels (texel reads here, maxpool_bwd's scatter in pool_scatter.go, the
// vec4 forms in vec4_forms.go): on CPU devices, unless
// Options.storageReads.
func (d *Device) cpuForms() bool {
	return d.info.Type == backend.CPUDevice && !d.opts.storageReads
}

// texelReads switches each pass whose module has a texel-read form to it
// when the device runs the CPU forms and every binding the form reads fits
// a texel buffer: at most maxTexelBufferElements floats, at a window offset
// that is a multiple of minTexelBufferOffsetAlignment. Other passes are
// left as they are.
func (d *Device) texelReads(passes []*pass) {
	if !d.cpuForms() {
		return
	}
	for _, ps := range passes {
		reads, ok := texelReadModules[ps.module]
		if !ok || !d.fitTexels(ps.binds, reads) {
			continue
		}
		binds := make([]binding, len(ps.binds))
		copy(binds, ps.binds)
		for _, i := range reads {
			binds[i].texel, binds[i].words = 1, texelWordModules[ps.module]
		}
		ps.module, ps.binds = ps.module+"_tx", binds
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
