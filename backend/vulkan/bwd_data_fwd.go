package vulkan

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// The forward form of conv2d_bwd_data (configuration fwd=1): at stride 1
// the input gradient dx = conv_transpose(dy, w) is the forward convolution
// of dy, padded by R-1-PadH and S-1-PadW, with the filter rotated by 180
// degrees and its K and C swapped, wf[c][k][r][s] = w[k][c][R-1-r][S-1-s].
// conv2d_filter_flip writes wf and a zero bias into a scratch buffer, then
// conv2d_fwd's tile engine runs the product, with its 4-wide filter loads
// where K*R*S is a multiple of 4, where the gather form reads dy twice per
// element and its filter one element at a time. On lavapipe (a 5-minute
// tune of cpu-quick at batch 128) it ran conv.3's 5x5 input gradient in
// 91.8 ms against 134.2 for Winograd (the gather form's best was 218.2 in
// an earlier tune), and conv.6/8/10's in 32.1/45.2/29.2 ms against
// Winograd's 46.2/62.4/40.1: the tuner chose it for all four.

// forwardForm is the forward convolution that p's forward form (fwd=1)
// runs: bwdDataForward's or bwdFilterForward's.
func forwardForm(p backend.Params) (backend.Conv2DFwd, error) {
	switch p.Kernel() {
	case backend.KConv2DBwdData:
		return bwdDataForward(p)
	case backend.KConv2DBwdFilter:
		return bwdFilterForward(p)
	}
	return backend.Conv2DFwd{}, fmt.Errorf("fwd=1: only conv2d_bwd_data and conv2d_bwd_filter have a forward form (use fwd=0 for %s)", p.Kernel())
}

// bwdDataForward is the forward convolution whose output is the input
// gradient of p (a Conv2DBwdData), or why p has no forward form: a stride
// other than 1, a ReLU mask (conv2d_fwd reads its input unmasked) or a
// padding over R-1 or S-1.
func bwdDataForward(p backend.Params) (backend.Conv2DFwd, error) {
	q, err := backend.ParamsAs[backend.Conv2DBwdData](p)
	if err != nil {
		return backend.Conv2DFwd{}, err
	}
	switch {
	case q.StrideH != 1 || q.StrideW != 1:
		return backend.Conv2DFwd{}, fmt.Errorf("fwd=1: the forward form of conv2d_bwd_data needs stride 1, not %dx%d", q.StrideH, q.StrideW)
	case q.MaskRelu != 0:
		return backend.Conv2DFwd{}, fmt.Errorf("fwd=1: the forward form of conv2d_bwd_data reads dy unmasked (MaskRelu must be 0)")
	case q.PadH > q.R-1 || q.PadW > q.S-1:
		return backend.Conv2DFwd{}, fmt.Errorf("fwd=1: padding %dx%d over the %dx%d kernel's %dx%d has no forward form", q.PadH, q.PadW, q.R, q.S, q.R-1, q.S-1)
	}
	return backend.Conv2DFwd{Conv2DShape: backend.Conv2DShape{N: q.N, C: q.K, H: q.OH, W: q.OW, K: q.C, R: q.R, S: q.S,
		StrideH: 1, StrideW: 1, PadH: q.R - 1 - q.PadH, PadW: q.S - 1 - q.PadW, OH: q.H, OW: q.W}}, nil
}

// flipPush is conv2d_filter_flip's push constant block: the params and the
// element offset of the zero bias in the scratch buffer.
type flipPush struct {
	P       backend.Conv2DBwdData
	BiasOff uint32
}

// flipBiasAlign is the element alignment of the zero bias in the scratch
// buffer: 256 bytes, the largest minStorageBufferOffsetAlignment Vulkan
// allows.
const flipBiasAlign = 64

// planBwdDataForward plans q (binds dy, w, dx) in its forward form with
// tiling c (fwd=1): the flip into scratch, then conv2d_fwd.
func (d *Device) planBwdDataForward(q backend.Conv2DBwdData, c tileCfg, binds []binding) ([]*pass, error) {
	f, err := bwdDataForward(q)
	if err != nil {
		return nil, err
	}
	wl := int(q.K * q.C * q.R * q.S)
	off := ceilDiv(wl, flipBiasAlign) * flipBiasAlign
	n := off + int(q.C)
	scratch, err := d.scratchBuffer("conv2d_bwd_data forward form", n)
	if err != nil {
		return nil, err
	}
	w := binds[1]
	w.write = false
	flip := &pass{module: "conv2d_filter_flip", spec: []uint32{d.wg1()}, groups: d.groups1D(wl + int(q.C)),
		push: pushBytes(flipPush{q, uint32(off)}), binds: []binding{w, {b: scratch, elems: n, write: true}}}
	c.fwd = 0
	fb := []binding{binds[0], {b: scratch, elems: wl}, {b: scratch, elems: int(q.C), off: off}, binds[2]}
	product, err := gemmPass("conv2d_fwd", c, int(f.K), f.YLen()/int(f.K), 1, pushBytes(f), d.texelOperands(backend.KConv2DFwd, c, fb, 0, 1))
	if err != nil {
		return nil, err
	}
	return append([]*pass{flip}, product...), nil
}
