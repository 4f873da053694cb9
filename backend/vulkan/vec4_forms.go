package vulkan

import "github.com/crossgrad/crossgrad/backend"

// vec4Aligned reports whether the device runs its CPU forms (cpuForms)
// and every binding starts at a multiple of four elements, as the vec4
// forms (adam_vec4, relu_bwd_vec4) need.
func (d *Device) vec4Aligned(binds []binding) bool {
	ok := d.cpuForms()
	for _, b := range binds {
		ok = ok && b.off%4 == 0
	}
	return ok
}

// vec4Pass is one pass of a vec4 form over n elements: a quarter of the
// invocations, at least three for the tail of n % 4.
func (d *Device) vec4Pass(module string, n int, push []byte, binds []binding) []*pass {
	return d.onePass(module, max(ceilDiv(n, 4), 3), push, binds)
}

// planAdam plans adam as one pass of adam_vec4 where vec4Aligned
// (lavapipe, cpu-quick at batch 128: the update of its 16 tensors 34.6 and
// 37.7 ms against 80.8 and 57.1 with adam, alternate runs), else of adam.
func (d *Device) planAdam(q backend.Adam, binds []binding) ([]*pass, error) {
	if d.vec4Aligned(binds) {
		return d.vec4Pass("adam_vec4", q.Elements(), pushBytes(q), binds), nil
	}
	return d.onePass("adam", q.Elements(), pushBytes(q), binds), nil
}

// planReluBwd plans relu_bwd as one pass of relu_bwd_vec4 where
// vec4Aligned, in place or not (lavapipe, cpu-quick at batch 128: the
// step's five 7.2 and 9.8 ms against 18.2 and 18.8 with relu_bwd, alternate
// runs), else of relu_bwd.
func (d *Device) planReluBwd(q backend.ReluBwd, binds []binding) ([]*pass, error) {
	if d.vec4Aligned(binds) {
		return d.vec4Pass("relu_bwd_vec4", q.Elements(), pushBytes(q), binds), nil
	}
	return d.onePass("relu_bwd", q.Elements(), pushBytes(q), binds), nil
}

// winogradDyVec4 reports whether winograd_dy runs as winograd_dy_vec4
// (planned under that name; texelReads turns it into winograd_dy_vec4_tx,
// the only module of the form): on CPU devices, for K % 4 == 0 (four
// channels of one tile per invocation), E at a multiple of four elements,
// and dy and ym fitting texel buffers (lavapipe, cpu-quick at batch 128:
// conv.3's F(5x5,2x2) dy transform, 36 stores per tile and channel,
// see README).
func (d *Device) winogradDyVec4(q backend.WinogradDy, binds []binding) bool {
	return d.cpuForms() && q.K%4 == 0 && binds[1].off%4 == 0 && d.fitTexels(binds, texelReadModules["winograd_dy_vec4"])
}

// winogradInputVec4 reports whether winograd_input runs as
// winograd_input_vec4 (planned under that name; texelReads turns it into
// winograd_input_vec4_tx, the only module of the form): on CPU devices, for
// P % 4 == 0 (four tiles of one block and channel per invocation), V at a
// multiple of four elements, and x and ym fitting texel buffers.
func (d *Device) winogradInputVec4(q backend.WinogradInput, binds []binding) bool {
	return d.cpuForms() && q.Tiles()%4 == 0 && binds[1].off%4 == 0 &&
		d.fitTexels(binds, texelReadModules["winograd_input_vec4"])
}
