package vulkan

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// The forward form of conv2d_bwd_filter (configuration fwd=1): at stride 1
// the filter gradient dw[k][c][r][s] = sum over n, i, j of dy[n][k][i][j]
// * x[n][c][r+i-PadH][s+j-PadW] is the forward convolution whose C
// "images" are the input channels (x with its leading axes swapped, N
// channels each) and whose K filters of N channels are dy with its leading
// axes swapped (masked by the ReLU when MaskRelu), at the layer's padding;
// its R x S output holds dw with its leading axes swapped. A last "image"
// of ones gives db[k] at output position (PadH, PadW), whose window covers
// the whole of dy when 2*PadH <= R-1 and 2*PadW <= S-1. Five passes:
// swap_leading of x and of dy into scratch, a fill of the zero bias,
// conv2d_fwd's tile engine, and conv2d_bwd_filter_unswap into dw and db.

// bwdFilterForward is the forward convolution that the forward form of p
// (a Conv2DBwdFilter) runs, or why p has none: a stride other than 1, or a
// padding over half the kernel, which takes db's window off dy.
func bwdFilterForward(p backend.Params) (backend.Conv2DFwd, error) {
	q, err := backend.ParamsAs[backend.Conv2DBwdFilter](p)
	if err != nil {
		return backend.Conv2DFwd{}, err
	}
	switch {
	case q.StrideH != 1 || q.StrideW != 1:
		return backend.Conv2DFwd{}, fmt.Errorf("fwd=1: the forward form of conv2d_bwd_filter needs stride 1, not %dx%d", q.StrideH, q.StrideW)
	case 2*q.PadH > q.R-1 || 2*q.PadW > q.S-1:
		return backend.Conv2DFwd{}, fmt.Errorf("fwd=1: padding %dx%d over half the %dx%d kernel: the forward form of conv2d_bwd_filter needs 2*pad <= kernel-1", q.PadH, q.PadW, q.R, q.S)
	}
	return backend.Conv2DFwd{Conv2DShape: backend.Conv2DShape{N: q.C + 1, C: q.N, H: q.H, W: q.W, K: q.K, R: q.OH, S: q.OW,
		StrideH: 1, StrideW: 1, PadH: q.PadH, PadW: q.PadW, OH: q.R, OW: q.S}}, nil
}

// swapPush is swap_leading's push constant block.
type swapPush struct {
	A, B, P    uint32
	Ones, Mask uint32
}

// swapPass is swap_leading from in (A x B x P) to out (planOne takes its
// texel-read form where the device runs it).
func (d *Device) swapPass(sp swapPush, in, out, ym binding) *pass {
	in.write, ym.write = false, false
	return &pass{module: "swap_leading", spec: []uint32{d.wg1()}, groups: d.groups1D(int((sp.B + sp.Ones) * sp.A * sp.P)),
		push: pushBytes(sp), binds: []binding{in, out, ym}}
}

// planBwdFilterForward plans q (binds x, dy, dw, db and with MaskRelu y) in
// its forward form with tiling c (fwd=1).
func (d *Device) planBwdFilterForward(q backend.Conv2DBwdFilter, c tileCfg, binds []binding) ([]*pass, error) {
	f, err := bwdFilterForward(q)
	if err != nil {
		return nil, err
	}
	xl, wl, yl := f.XLen(), f.WLen(), f.YLen()
	off := ceilDiv(wl, flipBiasAlign) * flipBiasAlign
	xs, err := d.scratchBuffer("conv2d_bwd_filter forward form input", xl)
	if err != nil {
		return nil, err
	}
	ws, err := d.scratchBuffer("conv2d_bwd_filter forward form filter", off+int(q.K))
	if err != nil {
		return nil, err
	}
	ys, err := d.scratchBuffer("conv2d_bwd_filter forward form output", yl)
	if err != nil {
		return nil, err
	}
	x, dy, ym := binds[0], binds[1], withMask(binds, 4, 1)[4]
	bias := binding{b: ws, elems: int(q.K), off: off, write: true}
	passes := []*pass{
		d.swapPass(swapPush{A: q.N, B: q.C, P: q.H * q.W, Ones: 1}, x, binding{b: xs, elems: xl, write: true}, x),
		d.swapPass(swapPush{A: q.N, B: q.K, P: q.OH * q.OW, Mask: q.MaskRelu}, dy, binding{b: ws, elems: wl, write: true}, ym),
		d.onePass("fill", int(q.K), pushBytes(backend.Fill{N: q.K}), []binding{bias})[0],
	}
	c.fwd = 0
	bias.write = false
	fb := []binding{{b: xs, elems: xl}, {b: ws, elems: wl}, bias, {b: ys, elems: yl, write: true}}
	product, err := gemmPass("conv2d_fwd", c, int(f.K), f.YLen()/int(f.K), 1, pushBytes(f), d.texelOperands(backend.KConv2DFwd, c, fb, 0, 1))
	if err != nil {
		return nil, err
	}
	unswap := &pass{module: "conv2d_bwd_filter_unswap", spec: []uint32{d.wg1()}, groups: d.groups1D(int(q.K*q.C*q.R*q.S + q.K)),
		push: pushBytes(q), binds: []binding{{b: ys, elems: yl}, binds[2], binds[3]}}
	return append(append(passes, product...), unswap), nil
}
