package backend

import "fmt"

// Winograd F(2x2,3x3) runs a 3x3 stride-1 convolution as four dispatches:
// winograd_filter transforms the weights into U[16][K][C], winograd_input
// the input's 4x4 tiles (stride 2, overlapping by 2) into V[16][C][P],
// a Gemm of Batch 16 multiplies U[ξ] (K x C) by V[ξ] (C x P) into
// M[16][K][P], and winograd_output transforms M back into the 2x2 output
// tiles. P is the tile count N*ceil(OH/2)*ceil(OW/2); tile t = (n*TH+th)*TW
// + tw covers output rows 2*th, 2*th+1 and columns 2*tw, 2*tw+1 of image n.
// ξ = 4*i+j is element (i, j) of a transformed 4x4 tile. The transform
// matrices are stated in backend/ref (winograd.go); WinogradConv plans the
// four dispatches of a layer.

// WinogradTileSize is the output tile side m of F(m x m, 3x3), and
// WinogradPoints the 16 = (m+2)^2 elements of a transformed tile.
const (
	WinogradTileSize = 2
	WinogradPoints   = 16
)

// WinogradMaxKernel is the largest kernel side Winograd takes. A side of 4
// to 6 splits into two 3-wide blocks at offsets 0 and 3 (the second padded
// with zeros), so an R x S kernel runs as WinogradBlocks(R)*WinogradBlocks(S)
// F(2x2,3x3) convolutions of shifted windows, summed by the Gemm's
// reduction (4*16 multiplies per 2x2 output tile for 5x5, against 100 for
// direct convolution), unless the params' K5 runs a 5x5 kernel as one
// F(2x2,5x5) block (36 multiplies; see WinogradPoints5).
const WinogradMaxKernel = 6

// WinogradBlocks is the number of 3-wide blocks of a kernel side r (3 to
// WinogradMaxKernel): 1 or 2.
func WinogradBlocks(r uint32) uint32 { return (r + 2) / 3 }

// winogradKernel checks a kernel side pair for the Winograd kernels.
func winogradKernel(name string, r, s uint32) error {
	if r < 3 || s < 3 || r > WinogradMaxKernel || s > WinogradMaxKernel {
		return fmt.Errorf("%s: kernel %dx%d: each side must be 3 to %d", name, r, s, WinogradMaxKernel)
	}
	return nil
}

// kernelTag is "" for 3x3, else " k5" or " k4x6", for the Shape strings.
func kernelTag(r, s uint32) string {
	if r == 3 && s == 3 {
		return ""
	}
	return " k" + pair(r, s)
}

// WinogradTiles is the tile count N*ceil(OH/2)*ceil(OW/2) (saturating as
// every buffer size does).
func WinogradTiles(n, oh, ow uint32) int {
	return mul(n, (oh+1)/WinogradTileSize, (ow+1)/WinogradTileSize)
}

// KWinogradInput names WinogradInput.
const KWinogradInput Kernel = "winograd_input"

// WinogradInput transforms the input of an R x S stride-1 convolution (3
// <= R, S <= WinogradMaxKernel) with padding PadH, PadW into V[ξ][q*C+c][t]
// = (B^T d B)[ξ], d the 4x4 window of x[n][c] at rows 2*th-PadH+3*a.. and
// columns 2*tw-PadW+3*b.. of tile t for block q = a*WinogradBlocks(S)+b of
// the kernel (one block, q = 0, for 3x3), positions outside the image
// counting as zero. OH = H+2*PadH-R+1 and OW = W+2*PadW-S+1 are the
// convolution's output size. With MaskRelu 1 (the input gradient's
// transform of dy) it reads x masked by the backward of the ReLU whose
// output is y, y > 0 ? x : 0 (ReluBwd's select), leaving x as it is.
// With K5 1 (R = S = 5) it transforms the 6x6 windows of F(2x2,5x5)
// instead, at rows 2*th-PadH.. and columns 2*tw-PadW.., into
// V[ξ][c][t], ξ = 6*i+j < 36. With F4 1 (R = S = 3) it is F(4x4,3x3)'s
// transform of the same 6x6 windows at rows 4*th-PadH.. and columns
// 4*tw-PadW.. of its 4x4 tiles (WinogradConv4), for a kernel over 3x3
// those of its 3x3 blocks as above. Buffers: x[N*C*H*W],
// V[Points()*Q*C*P] (Q = Blocks()), and with MaskRelu y[N*C*H*W].
type WinogradInput struct {
	N, C, H, W uint32
	PadH, PadW uint32
	R, S       uint32
	OH, OW     uint32
	MaskRelu   uint32
	K5         uint32
	F4         uint32
}

// Blocks is Q, the number of blocks of the R x S kernel (1 with K5 or F4).
func (p WinogradInput) Blocks() uint32 { return winogradBlocksOf(p.R, p.S, p.K5) }

// Points is the number of elements of a transformed tile: 16, or 36 with
// K5 or F4.
func (p WinogradInput) Points() int { return winogradPoints(p.K5 | p.F4) }

// Kernel implements Params.
func (WinogradInput) Kernel() Kernel { return KWinogradInput }

// Tiles is P, the number of output tiles.
func (p WinogradInput) Tiles() int { return WinogradTilesOf(p.N, p.OH, p.OW, p.F4) }

// BufferSizes implements Params.
func (p WinogradInput) BufferSizes() []int {
	s := []int{mul(p.N, p.C, p.H, p.W), mul(u32(p.Points()), p.Blocks(), p.C, u32(p.Tiles()))}
	if p.MaskRelu != 0 {
		s = append(s, s[0])
	}
	return s
}

// Buffers implements Params.
func (p WinogradInput) Buffers() []Buf {
	if p.MaskRelu != 0 {
		return []Buf{in("x"), out("V"), in("y")}
	}
	return []Buf{in("x"), out("V")}
}

// Work implements Params: the transform's few additions per element are
// held to the copy ceiling, as the other streaming kernels.
func (p WinogradInput) Work() Work { return streamed(p) }

// Shape implements Params, e.g. "N8 C384 12x12 p1 -> 6x6 tiles", "N8
// C96 26x26 k5 F(2,5) p2 -> 13x13 tiles" or "N8 C384 12x12 F(4,3) p1 ->
// 3x3 tiles".
func (p WinogradInput) Shape() string {
	return fmt.Sprintf("N%d C%d %dx%d%s%s%s p%s -> %s", p.N, p.C, p.H, p.W, kernelTag(p.R, p.S), k5Tag(p.K5), f4Tag(p.F4), pair(p.PadH, p.PadW),
		tilesTag(p.OH, p.OW, p.F4))
}

// Validate implements Params.
func (p WinogradInput) Validate() error {
	if p.N == 0 || p.C == 0 || p.H == 0 || p.W == 0 {
		return fmt.Errorf("winograd_input: N, C, H, W must be positive: %+v", p)
	}
	if p.MaskRelu > 1 {
		return fmt.Errorf("winograd_input: MaskRelu must be 0 or 1, got %d", p.MaskRelu)
	}
	if err := winogradKernel("winograd_input", p.R, p.S); err != nil {
		return err
	}
	if err := winogradK5("winograd_input", p.K5, p.R, p.S); err != nil {
		return err
	}
	if err := winogradF4("winograd_input", p.F4, p.K5, p.R, p.S); err != nil {
		return err
	}
	if p.H+2*p.PadH < p.R || p.W+2*p.PadW < p.S {
		return fmt.Errorf("winograd_input: padded input %dx%d smaller than the %dx%d kernel", p.H+2*p.PadH, p.W+2*p.PadW, p.R, p.S)
	}
	if oh, ow := p.H+2*p.PadH-p.R+1, p.W+2*p.PadW-p.S+1; p.OH != oh || p.OW != ow {
		return fmt.Errorf("winograd_input: output %dx%d does not follow from the geometry (want %dx%d)", p.OH, p.OW, oh, ow)
	}
	return nil
}

// KWinogradFilter names WinogradFilter.
const KWinogradFilter Kernel = "winograd_filter"

// WinogradFilter transforms R x S weights w[K][C][R][S] (3 <= R, S <=
// WinogradMaxKernel) into U[ξ][k][q*C+c] = (G g G^T)[ξ], g[r][s] =
// w[k][c][3*a+r][3*b+s] the block q = a*WinogradBlocks(S)+b (zero past R,
// S; one block, g = w[k][c], for 3x3). With BwdData != 0 it transforms the
// filter of the input gradient instead, the weights rotated by 180 degrees
// with K and C swapped: U'[ξ][c][q*K+k] = (G g' G^T)[ξ], g'[r][s] =
// w[k][c][R-1-3*a-r][S-1-3*b-s] (zero where that is below 0).
// With K5 1 (R = S = 5) it transforms the whole 5x5 filter by
// F(2x2,5x5)'s G (6x5) into U[ξ][k][c] (U'[ξ][c][k]), ξ < 36; with F4
// 1 each 3x3 block by F(4x4,3x3)'s G (6x3) into U[ξ][k][q*C+c]
// (U'[ξ][c][q*K+k]), ξ < 36.
// Buffers: w[K*C*R*S], U[Points()*Q*K*C] (Q = Blocks()).
type WinogradFilter struct {
	K, C    uint32
	R, S    uint32
	BwdData uint32
	K5      uint32
	F4      uint32
}

// Blocks is Q, the number of blocks of the R x S kernel (1 with K5 or F4).
func (p WinogradFilter) Blocks() uint32 { return winogradBlocksOf(p.R, p.S, p.K5) }

// Points is the number of elements of a transformed tile: 16, or 36 with
// K5 or F4.
func (p WinogradFilter) Points() int { return winogradPoints(p.K5 | p.F4) }

// Kernel implements Params.
func (WinogradFilter) Kernel() Kernel { return KWinogradFilter }

// BufferSizes implements Params.
func (p WinogradFilter) BufferSizes() []int {
	return []int{mul(p.K, p.C, p.R, p.S), mul(u32(p.Points()), p.Blocks(), p.K, p.C)}
}

// Buffers implements Params.
func (WinogradFilter) Buffers() []Buf { return []Buf{in("w"), out("U")} }

// Work implements Params: the transform's few additions per element are
// held to the copy ceiling, as the other streaming kernels.
func (p WinogradFilter) Work() Work { return streamed(p) }

// Shape implements Params, e.g. "K384 C256", "K256 C96 k5" or "K384 C256
// bwd_data".
func (p WinogradFilter) Shape() string {
	s := fmt.Sprintf("K%d C%d%s%s%s", p.K, p.C, kernelTag(p.R, p.S), k5Tag(p.K5), f4Tag(p.F4))
	if p.BwdData != 0 {
		s += " bwd_data"
	}
	return s
}

// Validate implements Params.
func (p WinogradFilter) Validate() error {
	if p.K == 0 || p.C == 0 {
		return fmt.Errorf("winograd_filter: K and C must be positive, got %d, %d", p.K, p.C)
	}
	if p.BwdData > 1 {
		return fmt.Errorf("winograd_filter: BwdData must be 0 or 1, got %d", p.BwdData)
	}
	if err := winogradKernel("winograd_filter", p.R, p.S); err != nil {
		return err
	}
	if err := winogradK5("winograd_filter", p.K5, p.R, p.S); err != nil {
		return err
	}
	return winogradF4("winograd_filter", p.F4, p.K5, p.R, p.S)
}

// KWinogradOutput names WinogradOutput.
const KWinogradOutput Kernel = "winograd_output"

// WinogradOutput transforms the products M[ξ][k][t] back into the output:
// the 2x2 tile A^T m A of m = M[.][k][t] goes to y[n][k] at rows 2*th..
// and columns 2*tw.. of tile t, the rows and columns past OH, OW left out
// (partial tiles at the edges), plus b[k] when Bias != 0; with Relu 1 the
// store clamps as ReluFwd (o > 0 ? o : 0), so a fused Winograd Conv2d+ReLU
// equals the two passes bit for bit. With K5 1 M holds F(2x2,5x5)'s 36
// points and A^T is its 2x6 matrix; with F4 1 it holds F(4x4,3x3)'s 36,
// A^T is its 4x6 matrix and the tiles are 4x4 (rows 4*th.., columns
// 4*tw..). Buffers: M[Points()*K*P], b[K] (b[1], unread, when Bias == 0),
// y[N*K*OH*OW].
type WinogradOutput struct {
	N, K, OH, OW uint32
	Bias         uint32
	Relu         uint32
	K5           uint32
	F4           uint32
}

// Points is the number of elements of a transformed tile: 16, or 36 with
// K5 or F4.
func (p WinogradOutput) Points() int { return winogradPoints(p.K5 | p.F4) }

// Kernel implements Params.
func (WinogradOutput) Kernel() Kernel { return KWinogradOutput }

// Tiles is P, the number of output tiles.
func (p WinogradOutput) Tiles() int { return WinogradTilesOf(p.N, p.OH, p.OW, p.F4) }

// BufferSizes implements Params.
func (p WinogradOutput) BufferSizes() []int {
	b := 1
	if p.Bias != 0 {
		b = int(p.K)
	}
	return []int{mul(u32(p.Points()), p.K, u32(p.Tiles())), b, mul(p.N, p.K, p.OH, p.OW)}
}

// Buffers implements Params.
func (WinogradOutput) Buffers() []Buf { return []Buf{in("M"), in("b"), out("y")} }

// Work implements Params: the transform's few additions per element are
// held to the copy ceiling, as the other streaming kernels.
func (p WinogradOutput) Work() Work { return streamed(p) }

// Shape implements Params, e.g. "N8 K384 -> 12x12 bias".
func (p WinogradOutput) Shape() string {
	s := fmt.Sprintf("N%d K%d%s%s -> %dx%d", p.N, p.K, k5Tag(p.K5), f4Tag(p.F4), p.OH, p.OW)
	if p.Bias != 0 {
		s += " bias"
	}
	return s
}

// Validate implements Params.
func (p WinogradOutput) Validate() error {
	if p.N == 0 || p.K == 0 || p.OH == 0 || p.OW == 0 {
		return fmt.Errorf("winograd_output: N, K, OH, OW must be positive: %+v", p)
	}
	if p.Bias > 1 || p.Relu > 1 {
		return fmt.Errorf("winograd_output: Bias and Relu must be 0 or 1, got %d, %d", p.Bias, p.Relu)
	}
	if err := winogradK5("winograd_output", p.K5, 0, 0); err != nil {
		return err
	}
	return winogradF4("winograd_output", p.F4, p.K5, 0, 0)
}

// WinogradPlan is a 3x3 stride-1 convolution pass as Winograd's four
// dispatches, in order: Filter (w -> U), Input (x or dy -> V), Gemm (U, V
// -> M) and Output (M, b -> y or dx). ULen, VLen and MLen are the sizes of
// the scratch buffers U, V and M in float32 elements.
type WinogradPlan struct {
	Filter           WinogradFilter
	Input            WinogradInput
	Gemm             Gemm
	Output           WinogradOutput
	ULen, VLen, MLen int
}

// WinogradConv plans layer g's forward pass (y = conv(x, w) + b) or, with
// backwardData, its input gradient (dx = conv_transpose(dy, w), which is
// the convolution of dy padded by R-1-PadH, S-1-PadW with the rotated
// filter of K and C swapped) as F(2x2,3x3), an R x S kernel over 3x3 as
// Blocks() 3x3 blocks in the Gemm's reduction, or a 5x5 kernel as one
// F(2x2,5x5) (K5, WinogradK5). It reports false when the
// layer does not admit it: not a valid geometry, a kernel side outside 3
// to WinogradMaxKernel, a stride other than 1, for backwardData a padding
// over R-1 or S-1, or a buffer over MaxElements.
func WinogradConv(g Conv2DShape, backwardData bool) (WinogradPlan, bool) {
	return winogradConv(g, backwardData, 0)
}

// winogradConv is WinogradConv, or with f4 1 WinogradConv4.
func winogradConv(g Conv2DShape, backwardData bool, f4 uint32) (WinogradPlan, bool) {
	if WinogradRefusal(g, backwardData) != nil {
		return WinogradPlan{}, false
	}
	k5 := WinogradK5(g.R, g.S) * (1 - f4)
	in := WinogradInput{N: g.N, C: g.C, H: g.H, W: g.W, PadH: g.PadH, PadW: g.PadW, R: g.R, S: g.S, OH: g.OH, OW: g.OW, K5: k5, F4: f4}
	filter := WinogradFilter{K: g.K, C: g.C, R: g.R, S: g.S, K5: k5, F4: f4}
	outp := WinogradOutput{N: g.N, K: g.K, OH: g.OH, OW: g.OW, Bias: 1, K5: k5, F4: f4}
	if backwardData {
		in = WinogradInput{N: g.N, C: g.K, H: g.OH, W: g.OW, PadH: g.R - 1 - g.PadH, PadW: g.S - 1 - g.PadW,
			R: g.R, S: g.S, OH: g.H, OW: g.W, K5: k5, F4: f4}
		filter.BwdData = 1
		outp = WinogradOutput{N: g.N, K: g.C, OH: g.H, OW: g.W, K5: k5, F4: f4}
	}
	p := u32(in.Tiles())
	rows, red := outp.K, in.C*in.Blocks()
	pl := WinogradPlan{Filter: filter, Input: in, Output: outp,
		Gemm: Gemm{M: rows, N: p, K: red, Alpha: 1, Batch: u32(in.Points())}}
	pl.ULen, pl.VLen, pl.MLen = pl.Gemm.BufferSizes()[0], pl.Gemm.BufferSizes()[1], pl.Gemm.BufferSizes()[2]
	for _, q := range []Params{pl.Filter, pl.Input, pl.Gemm, pl.Output} {
		if q.Validate() != nil {
			return WinogradPlan{}, false
		}
		for _, n := range q.BufferSizes() {
			if n > MaxElements {
				return WinogradPlan{}, false
			}
		}
	}
	return pl, true
}

// WinogradRefusal says why layer g's pass (the forward output and the
// filter gradient, or with backwardData the input gradient) cannot run as
// Winograd, naming the layer's kernel, stride or padding; nil when its
// geometry admits it (WinogradConv and WinogradGrad may still refuse a
// buffer over MaxElements).
func WinogradRefusal(g Conv2DShape, backwardData bool) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if g.R < 3 || g.S < 3 || g.R > WinogradMaxKernel || g.S > WinogradMaxKernel || g.StrideH != 1 || g.StrideW != 1 {
		return fmt.Errorf("%dx%d stride %s: Winograd takes kernels 3x3 to %dx%d at stride 1 only", g.R, g.S,
			pair(g.StrideH, g.StrideW), WinogradMaxKernel, WinogradMaxKernel)
	}
	if backwardData && (g.PadH > g.R-1 || g.PadW > g.S-1) {
		return fmt.Errorf("padding %s: the Winograd input gradient of a %dx%d kernel takes a padding of at most %s",
			pair(g.PadH, g.PadW), g.R, g.S, pair(g.R-1, g.S-1))
	}
	return nil
}

// Dispatches are the plan's four params in dispatch order.
func (pl WinogradPlan) Dispatches() []Params {
	return []Params{pl.Filter, pl.Input, pl.Gemm, pl.Output}
}

// pair is "h" when h == w, else "hxw".
func pair(h, w uint32) string {
	if h == w {
		return fmt.Sprint(h)
	}
	return fmt.Sprintf("%dx%d", h, w)
}
