package vulkan

import "github.com/crossgrad/crossgrad/backend"

// scatterPush is the push constant block of maxpool_bwd_scatter: the
// params and the class (PH, PW) of output positions of one pass, every
// MH-th row and MW-th column.
type scatterPush struct {
	P              backend.MaxPoolBwd
	PH, PW, MH, MW uint32
}

// planMaxPoolBwd plans maxpool_bwd as one gather pass over dx (the storage
// buffer form, maxpool_bwd.comp), or on CPU devices where dy and idx fit
// texel buffers as a fill of dx with zeros and one maxpool_bwd_scatter
// pass per class of output positions whose windows do not overlap
// (ceil(KH/StrideH) x ceil(KW/StrideW) classes: four for AlexNet's 3x3
// stride-2 pooling), each adding dy to the argmax positions of its
// outputs. On lavapipe (cpu-quick at batch 128) the scatter ran conv.2's
// input gradient in 13.8 ms, conv.5's in 7.1, where the gather form with
// texel reads took 31.2 and 19.6 (each gather visits up to four windows
// per input element, a lane-by-lane loop on llvmpipe).
func (d *Device) planMaxPoolBwd(q backend.MaxPoolBwd, binds []binding) ([]*pass, error) {
	if !d.cpuForms() || !d.fitTexels(binds, []int{0, 1}) {
		return d.onePass("maxpool_bwd", q.XLen(), pushBytes(q), binds), nil
	}
	passes := d.onePass("fill", q.XLen(), pushBytes(backend.Fill{N: uint32(q.XLen())}), binds[2:3])
	tex := make([]binding, len(binds))
	copy(tex, binds)
	tex[0].texel, tex[1].texel = 1, 1
	mh, mw := ceilDiv(int(q.KH), int(q.StrideH)), ceilDiv(int(q.KW), int(q.StrideW))
	for ph := 0; ph < min(mh, int(q.OH)); ph++ {
		for pw := 0; pw < min(mw, int(q.OW)); pw++ {
			n := int(q.N*q.C) * ceilDiv(int(q.OH)-ph, mh) * ceilDiv(int(q.OW)-pw, mw)
			push := pushBytes(scatterPush{q, uint32(ph), uint32(pw), uint32(mh), uint32(mw)})
			passes = append(passes, d.onePass("maxpool_bwd_scatter", n, push, tex)...)
		}
	}
	return passes, nil
}
