package backend

import "fmt"

// Conv2DShape is the geometry of a 2-D convolution over NCHW tensors:
// input x[N][C][H][W], weights w[K][C][R][S], bias b[K], output
// y[N][K][OH][OW] with OH = (H+2*PadH-R)/StrideH+1 (floor), likewise OW.
type Conv2DShape struct {
	N, C, H, W       uint32
	K, R, S          uint32
	StrideH, StrideW uint32
	PadH, PadW       uint32
	OH, OW           uint32
}

// NewConv2DShape fills OH and OW from the other fields (square stride and
// padding as PyTorch's Conv2d(stride=s, padding=p)).
func NewConv2DShape(n, c, h, w, k, r, s, stride, pad int) Conv2DShape {
	g := Conv2DShape{N: u32(n), C: u32(c), H: u32(h), W: u32(w), K: u32(k), R: u32(r), S: u32(s),
		StrideH: u32(stride), StrideW: u32(stride), PadH: u32(pad), PadW: u32(pad)}
	if h+2*pad >= r && w+2*pad >= s && stride > 0 {
		g.OH = u32((h+2*pad-r)/stride + 1)
		g.OW = u32((w+2*pad-s)/stride + 1)
	}
	return g
}

// XLen, WLen, YLen are the element counts of input, weights and output.
func (g Conv2DShape) XLen() int { return mul(g.N, g.C, g.H, g.W) }

// WLen is the element count of the weights K*C*R*S.
func (g Conv2DShape) WLen() int { return mul(g.K, g.C, g.R, g.S) }

// YLen is the element count of the output N*K*OH*OW.
func (g Conv2DShape) YLen() int { return mul(g.N, g.K, g.OH, g.OW) }

// Validate checks that every size is positive and OH, OW follow from the rest.
func (g Conv2DShape) Validate() error {
	if g.N == 0 || g.C == 0 || g.H == 0 || g.W == 0 || g.K == 0 || g.R == 0 || g.S == 0 || g.StrideH == 0 || g.StrideW == 0 {
		return fmt.Errorf("conv2d: every size and stride must be positive: %+v", g)
	}
	if g.H+2*g.PadH < g.R || g.W+2*g.PadW < g.S {
		return fmt.Errorf("conv2d: kernel %dx%d larger than padded input %dx%d", g.R, g.S, g.H+2*g.PadH, g.W+2*g.PadW)
	}
	oh := (g.H+2*g.PadH-g.R)/g.StrideH + 1
	ow := (g.W+2*g.PadW-g.S)/g.StrideW + 1
	if g.OH != oh || g.OW != ow {
		return fmt.Errorf("conv2d: output %dx%d does not follow from the geometry (want %dx%d)", g.OH, g.OW, oh, ow)
	}
	return nil
}

// Shape implements Params for the convolutions, e.g.
// "N8 C96 26x26 -> K256 26x26 k5x5 s1 p2" ("s2x1 p1x0" when the vertical
// and horizontal stride or padding differ), so that two dispatches of the
// same Shape have the same geometry (backend.KeyOf relies on it).
func (g Conv2DShape) Shape() string {
	pair := func(h, w uint32) string {
		if h == w {
			return fmt.Sprint(h)
		}
		return fmt.Sprintf("%dx%d", h, w)
	}
	return fmt.Sprintf("N%d C%d %dx%d -> K%d %dx%d k%dx%d s%s p%s", g.N, g.C, g.H, g.W, g.K, g.OH, g.OW, g.R, g.S,
		pair(g.StrideH, g.StrideW), pair(g.PadH, g.PadW))
}

// macs is the multiply-add count of the convolution, N*K*OH*OW*C*R*S.
func (g Conv2DShape) macs() float64 { return product(g.N, g.K, g.OH, g.OW, g.C, g.R, g.S) }

// KConv2DFwd names Conv2DFwd.
const KConv2DFwd Kernel = "conv2d_fwd"

// Conv2DFwd computes y = conv(x, w) + b; with Relu 1, y = max(conv(x, w) +
// b, 0) applied in the store (the value ReluFwd would write after it, so a
// fused Conv2d+ReLU equals the two passes bit for bit). Relu is no part of
// Shape: a fused dispatch shares the tuning key of the plain one.
// Buffers: x[XLen], w[WLen], b[K], y[YLen].
type Conv2DFwd struct {
	Conv2DShape
	Relu uint32
}

// Kernel implements Params.
func (Conv2DFwd) Kernel() Kernel { return KConv2DFwd }

// BufferSizes implements Params.
func (p Conv2DFwd) BufferSizes() []int { return []int{p.XLen(), p.WLen(), int(p.K), p.YLen()} }

// Buffers implements Params.
func (Conv2DFwd) Buffers() []Buf { return []Buf{in("x"), in("w"), in("b"), out("y")} }

// Work implements Params.
func (p Conv2DFwd) Work() Work { return computed(p, 2*p.macs()) }

// Validate implements Params: the geometry, and Relu 0 or 1.
func (p Conv2DFwd) Validate() error {
	if p.Relu > 1 {
		return fmt.Errorf("conv2d_fwd: Relu must be 0 or 1, got %d", p.Relu)
	}
	return p.Conv2DShape.Validate()
}

// KConv2DBwdData names Conv2DBwdData.
const KConv2DBwdData Kernel = "conv2d_bwd_data"

// Conv2DBwdData computes dx = conv_transpose(dy, w), the gradient of the
// input. With MaskRelu 1 it reads dy masked by the backward of the ReLU
// whose output is y, y > 0 ? dy : 0 (ReluBwd's select, so the result is
// that of relu_bwd then the plain kernel, bit for bit), leaving dy as it
// is. MaskRelu is no part of Shape: the tuning key of the plain kernel.
// Buffers: dy[YLen], w[WLen], dx[XLen] (overwritten), and with MaskRelu
// y[YLen].
type Conv2DBwdData struct {
	Conv2DShape
	MaskRelu uint32
}

// Kernel implements Params.
func (Conv2DBwdData) Kernel() Kernel { return KConv2DBwdData }

// BufferSizes implements Params.
func (p Conv2DBwdData) BufferSizes() []int {
	if p.MaskRelu != 0 {
		return []int{p.YLen(), p.WLen(), p.XLen(), p.YLen()}
	}
	return []int{p.YLen(), p.WLen(), p.XLen()}
}

// Buffers implements Params.
func (p Conv2DBwdData) Buffers() []Buf {
	if p.MaskRelu != 0 {
		return []Buf{in("dy"), in("w"), out("dx"), in("y")}
	}
	return []Buf{in("dy"), in("w"), out("dx")}
}

// Validate implements Params: the geometry, and MaskRelu 0 or 1.
func (p Conv2DBwdData) Validate() error {
	if p.MaskRelu > 1 {
		return fmt.Errorf("conv2d_bwd_data: MaskRelu must be 0 or 1, got %d", p.MaskRelu)
	}
	return p.Conv2DShape.Validate()
}

// Work implements Params.
func (p Conv2DBwdData) Work() Work { return computed(p, 2*p.macs()) }

// KConv2DBwdFilter names Conv2DBwdFilter.
const KConv2DBwdFilter Kernel = "conv2d_bwd_filter"

// Conv2DBwdFilter computes the weight gradient dw and the bias gradient
// db[k] = sum over n,oh,ow of dy. With MaskRelu 1 it reads dy masked as
// Conv2DBwdData does (y > 0 ? dy : 0). Buffers: x[XLen], dy[YLen],
// dw[WLen], db[K] (dw and db overwritten), and with MaskRelu y[YLen].
type Conv2DBwdFilter struct {
	Conv2DShape
	MaskRelu uint32
}

// Kernel implements Params.
func (Conv2DBwdFilter) Kernel() Kernel { return KConv2DBwdFilter }

// BufferSizes implements Params.
func (p Conv2DBwdFilter) BufferSizes() []int {
	if p.MaskRelu != 0 {
		return []int{p.XLen(), p.YLen(), p.WLen(), int(p.K), p.YLen()}
	}
	return []int{p.XLen(), p.YLen(), p.WLen(), int(p.K)}
}

// Buffers implements Params.
func (p Conv2DBwdFilter) Buffers() []Buf {
	if p.MaskRelu != 0 {
		return []Buf{in("x"), in("dy"), out("dw"), out("db"), in("y")}
	}
	return []Buf{in("x"), in("dy"), out("dw"), out("db")}
}

// Validate implements Params: the geometry, and MaskRelu 0 or 1.
func (p Conv2DBwdFilter) Validate() error {
	if p.MaskRelu > 1 {
		return fmt.Errorf("conv2d_bwd_filter: MaskRelu must be 0 or 1, got %d", p.MaskRelu)
	}
	return p.Conv2DShape.Validate()
}

// Work implements Params: the weight gradient's multiply-adds and the bias
// gradient's sums.
func (p Conv2DBwdFilter) Work() Work {
	return computed(p, 2*p.macs()+product(p.N, p.K, p.OH, p.OW))
}

// Pool2DShape is the geometry of a max-pool over NCHW: x[N][C][H][W] ->
// y[N][C][OH][OW], OH = (H+2*PadH-KH)/StrideH+1 (floor, as PyTorch's
// default ceil_mode=False); padded positions count as -inf.
type Pool2DShape struct {
	N, C, H, W       uint32
	KH, KW           uint32
	StrideH, StrideW uint32
	PadH, PadW       uint32
	OH, OW           uint32
}

// NewPool2DShape fills OH and OW (square window, stride and padding).
func NewPool2DShape(n, c, h, w, k, stride, pad int) Pool2DShape {
	g := Pool2DShape{N: u32(n), C: u32(c), H: u32(h), W: u32(w), KH: u32(k), KW: u32(k),
		StrideH: u32(stride), StrideW: u32(stride), PadH: u32(pad), PadW: u32(pad)}
	if h+2*pad >= k && w+2*pad >= k && stride > 0 {
		g.OH = u32((h+2*pad-k)/stride + 1)
		g.OW = u32((w+2*pad-k)/stride + 1)
	}
	return g
}

// XLen is the input element count N*C*H*W.
func (g Pool2DShape) XLen() int { return mul(g.N, g.C, g.H, g.W) }

// YLen is the output element count N*C*OH*OW.
func (g Pool2DShape) YLen() int { return mul(g.N, g.C, g.OH, g.OW) }

// Validate checks sizes and that OH, OW follow from the rest.
func (g Pool2DShape) Validate() error {
	if g.N == 0 || g.C == 0 || g.H == 0 || g.W == 0 || g.KH == 0 || g.KW == 0 || g.StrideH == 0 || g.StrideW == 0 {
		return fmt.Errorf("maxpool: every size and stride must be positive: %+v", g)
	}
	if 2*g.PadH > g.KH || 2*g.PadW > g.KW {
		return fmt.Errorf("maxpool: padding %dx%d must be at most half the window %dx%d", g.PadH, g.PadW, g.KH, g.KW)
	}
	if g.H+2*g.PadH < g.KH || g.W+2*g.PadW < g.KW {
		return fmt.Errorf("maxpool: window %dx%d larger than padded input %dx%d", g.KH, g.KW, g.H+2*g.PadH, g.W+2*g.PadW)
	}
	oh := (g.H+2*g.PadH-g.KH)/g.StrideH + 1
	ow := (g.W+2*g.PadW-g.KW)/g.StrideW + 1
	if g.OH != oh || g.OW != ow {
		return fmt.Errorf("maxpool: output %dx%d does not follow from the geometry (want %dx%d)", g.OH, g.OW, oh, ow)
	}
	return nil
}

// Shape implements Params for the pools, e.g. "N8 C96 55x55 -> 27x27 k3 s2".
func (g Pool2DShape) Shape() string {
	return fmt.Sprintf("N%d C%d %dx%d -> %dx%d k%d s%d", g.N, g.C, g.H, g.W, g.OH, g.OW, g.KH, g.StrideH)
}

// KMaxPoolFwd names MaxPoolFwd.
const KMaxPoolFwd Kernel = "maxpool_fwd"

// MaxPoolFwd computes y = max over each window, and idx = the position
// h*W+w within the input plane of the first maximum (stored as an exact
// float). Buffers: x[XLen], y[YLen], idx[YLen].
type MaxPoolFwd struct{ Pool2DShape }

// Kernel implements Params.
func (MaxPoolFwd) Kernel() Kernel { return KMaxPoolFwd }

// BufferSizes implements Params.
func (p MaxPoolFwd) BufferSizes() []int { return []int{p.XLen(), p.YLen(), p.YLen()} }

// Buffers implements Params.
func (MaxPoolFwd) Buffers() []Buf { return []Buf{in("x"), out("y"), out("idx")} }

// Work implements Params.
func (p MaxPoolFwd) Work() Work { return streamed(p) }

// KMaxPoolBwd names MaxPoolBwd.
const KMaxPoolBwd Kernel = "maxpool_bwd"

// MaxPoolBwd routes dy to the argmax positions: dx[n][c][i] = sum of dy over
// the windows whose idx is i. Buffers: dy[YLen], idx[YLen], dx[XLen]
// (overwritten).
type MaxPoolBwd struct{ Pool2DShape }

// Kernel implements Params.
func (MaxPoolBwd) Kernel() Kernel { return KMaxPoolBwd }

// BufferSizes implements Params.
func (p MaxPoolBwd) BufferSizes() []int { return []int{p.YLen(), p.YLen(), p.XLen()} }

// Buffers implements Params.
func (MaxPoolBwd) Buffers() []Buf { return []Buf{in("dy"), in("idx"), out("dx")} }

// Work implements Params.
func (p MaxPoolBwd) Work() Work { return streamed(p) }

func u32(v int) uint32 {
	if v < 0 {
		return 0
	}
	return uint32(v)
}

// ConvShapeOf is the geometry of the params of one of the three
// convolutions (by value or pointer), or false for any other kernel.
func ConvShapeOf(p Params) (Conv2DShape, bool) {
	switch p.Kernel() {
	case KConv2DFwd:
		q, err := ParamsAs[Conv2DFwd](p)
		return q.Conv2DShape, err == nil
	case KConv2DBwdData:
		q, err := ParamsAs[Conv2DBwdData](p)
		return q.Conv2DShape, err == nil
	case KConv2DBwdFilter:
		q, err := ParamsAs[Conv2DBwdFilter](p)
		return q.Conv2DShape, err == nil
	}
	return Conv2DShape{}, false
}

// WithConvShape is the params struct of convolution p's kernel over
// geometry g, keeping p's flags (Relu, MaskRelu); p must be one of the
// three convolutions (anything else is a programmer error and panics).
func WithConvShape(p Params, g Conv2DShape) Params {
	switch p.Kernel() {
	case KConv2DFwd:
		q, _ := ParamsAs[Conv2DFwd](p)
		q.Conv2DShape = g
		return q
	case KConv2DBwdData:
		q, _ := ParamsAs[Conv2DBwdData](p)
		q.Conv2DShape = g
		return q
	case KConv2DBwdFilter:
		q, _ := ParamsAs[Conv2DBwdFilter](p)
		q.Conv2DShape = g
		return q
	}
	panic(fmt.Sprintf("backend.WithConvShape: %s is not a convolution", p.Kernel()))
}
