package backend

import "fmt"

// Winograd F(3x3,2x2) runs the filter gradient of a 3x3 stride-1
// convolution (and of a larger kernel's 3x3 blocks, see
// WinogradMaxKernel) as four dispatches. Over the forward pass's output tiles t
// (the tiles of WinogradConv: 2x2 output pixels, P of them), the filter
// gradient of one tile is the 3x3 correlation of the 4x4 input window d
// with the 2x2 tile e of dy, dW_t = A'^T [ (G' e G'^T) ⊙ (B^T d B) ] A',
// with the same B^T as F(2x2,3x3) (backend/ref states the matrices).
// winograd_input transforms x into V[16][C][P] exactly as for the forward
// pass, winograd_dy transforms dy into E[16][P][K], a Gemm of Batch 16
// multiplies V[ξ] (C x P) by E[ξ] (P x K) into M[16][C][K], and
// winograd_dw transforms M into dw and sums db from E. WinogradGrad plans
// the four dispatches of a layer.

// KWinogradDy names WinogradDy.
const KWinogradDy Kernel = "winograd_dy"

// WinogradDy transforms the output gradient of a 3x3 stride-1 convolution
// (output OH x OW, K channels) into E[ξ][t][k] = (G' e G'^T)[ξ], e the 2x2
// tile of dy[n][k] at rows 2*th, 2*th+1 and columns 2*tw, 2*tw+1 of tile t
// = (n*TH+th)*TW+tw (TH = ceil(OH/2), TW = ceil(OW/2)), positions past OH,
// OW counting as zero. G' = [[2,0],[1,1],[1,-1],[0,2]] (twice the textbook
// matrix, so that E[5][t][k] = (1,1) e (1,1)^T is the sum of the tile:
// winograd_dw reads db from it). With MaskRelu 1 it reads dy masked by the
// backward of the ReLU whose output is y, y > 0 ? dy : 0, leaving dy as it
// is. With K5 1 it is F(5x5,2x2)'s transform instead, E[ξ][t][k], ξ <
// 36, by the 6x2 G' of backend/ref (winograd5.go), whose E[7] is 16 times
// the sum of the tile. With F4 1 it is F(3x3,4x4)'s (the filter gradient
// over F(4x4,3x3)'s tiles, WinogradGrad4): the 4x4 tile e at rows 4*th..
// and columns 4*tw.. by the 6x4 G' of backend/ref (winograd4.go), E[7]
// again 16 times the sum of the tile. Buffers: dy[N*K*OH*OW],
// E[Points()*P*K], and with MaskRelu y[N*K*OH*OW].
type WinogradDy struct {
	N, K, OH, OW uint32
	MaskRelu     uint32
	K5           uint32
	F4           uint32
}

// Points is the number of elements of a transformed tile: 16, or 36 with
// K5 or F4.
func (p WinogradDy) Points() int { return winogradPoints(p.K5 | p.F4) }

// Kernel implements Params.
func (WinogradDy) Kernel() Kernel { return KWinogradDy }

// Tiles is P, the number of output tiles.
func (p WinogradDy) Tiles() int { return WinogradTilesOf(p.N, p.OH, p.OW, p.F4) }

// BufferSizes implements Params.
func (p WinogradDy) BufferSizes() []int {
	s := []int{mul(p.N, p.K, p.OH, p.OW), mul(u32(p.Points()), u32(p.Tiles()), p.K)}
	if p.MaskRelu != 0 {
		s = append(s, s[0])
	}
	return s
}

// Buffers implements Params.
func (p WinogradDy) Buffers() []Buf {
	if p.MaskRelu != 0 {
		return []Buf{in("dy"), out("E"), in("y")}
	}
	return []Buf{in("dy"), out("E")}
}

// Work implements Params: the transform's few additions per element are
// held to the copy ceiling, as the other streaming kernels.
func (p WinogradDy) Work() Work { return streamed(p) }

// Shape implements Params, e.g. "N8 K384 12x12 -> 6x6 tiles".
func (p WinogradDy) Shape() string {
	return fmt.Sprintf("N%d K%d %dx%d%s%s -> %s", p.N, p.K, p.OH, p.OW, k5Tag(p.K5), f4Tag(p.F4), tilesTag(p.OH, p.OW, p.F4))
}

// Validate implements Params.
func (p WinogradDy) Validate() error {
	if p.N == 0 || p.K == 0 || p.OH == 0 || p.OW == 0 {
		return fmt.Errorf("winograd_dy: N, K, OH, OW must be positive: %+v", p)
	}
	if p.MaskRelu > 1 {
		return fmt.Errorf("winograd_dy: MaskRelu must be 0 or 1, got %d", p.MaskRelu)
	}
	if err := winogradK5("winograd_dy", p.K5, 0, 0); err != nil {
		return err
	}
	return winogradF4("winograd_dy", p.F4, p.K5, 0, 0)
}

// KWinogradDw names WinogradDw.
const KWinogradDw Kernel = "winograd_dw"

// WinogradDw transforms the products M[ξ][q*C+c][k] into the filter
// gradient of an R x S kernel (3 <= R, S <= WinogradMaxKernel): block q =
// a*WinogradBlocks(S)+b, A'^T m A' (3x3) of m = M[.][q*C+c][k], goes to
// dw[k][c][3*a+r][3*b+s], the rows and columns past R, S left out (one
// block, dw[k][c] itself, for 3x3), with A'^T =
// [[1,1,1,0],[0,1,-1,0],[0,1,1,-1]] / 2 (half the textbook matrix, undoing
// WinogradDy's doubled G'), and the bias gradient db[k] = sum over the P
// tiles t of E[5][t][k] (the sum of dy over image n and every pixel of
// channel k). Both are overwritten. Buffers: M[16*Q*C*K] (Q = Blocks()),
// E[16*P*K], dw[K*C*R*S], db[K]. With K5 1 (R = S = 5) M and E hold
// F(5x5,2x2)'s 36 points: dw[k][c] = A'^T m A' (5x5) by its 5x6 A'^T
// (backend/ref, winograd5.go) and db[k] = the sum of E[7][t][k] / 16.
// With F4 1 they hold F(3x3,4x4)'s: block q of dw[k][c] = A'^T m A' by its
// 3x6 A'^T (backend/ref, winograd4.go), db[k] likewise from E[7] / 16.
type WinogradDw struct {
	K, C, P uint32
	R, S    uint32
	K5      uint32
	F4      uint32
}

// Blocks is Q, the number of blocks of the R x S kernel (1 with K5 or F4).
func (p WinogradDw) Blocks() uint32 { return winogradBlocksOf(p.R, p.S, p.K5) }

// Points is the number of elements of a transformed tile: 16, or 36 with
// K5 or F4.
func (p WinogradDw) Points() int { return winogradPoints(p.K5 | p.F4) }

// Kernel implements Params.
func (WinogradDw) Kernel() Kernel { return KWinogradDw }

// BufferSizes implements Params.
func (p WinogradDw) BufferSizes() []int {
	pts := u32(p.Points())
	return []int{mul(pts, p.Blocks(), p.C, p.K), mul(pts, p.P, p.K), mul(p.K, p.C, p.R, p.S), int(p.K)}
}

// Buffers implements Params.
func (WinogradDw) Buffers() []Buf { return []Buf{in("M"), in("E"), out("dw"), out("db")} }

// Work implements Params: a streaming kernel that reads M and the one
// plane E[5] of E, and writes dw and db.
func (p WinogradDw) Work() Work {
	s := p.BufferSizes()
	return Work{Bytes: 4 * float64(s[0]+mul(p.P, p.K)+s[2]+s[3])}
}

// Shape implements Params, e.g. "K384 C256 from 4608 tiles" or "K256 C96
// k5 from 21632 tiles".
func (p WinogradDw) Shape() string {
	return fmt.Sprintf("K%d C%d%s%s%s from %d tiles", p.K, p.C, kernelTag(p.R, p.S), k5Tag(p.K5), f4Tag(p.F4), p.P)
}

// Validate implements Params.
func (p WinogradDw) Validate() error {
	if p.K == 0 || p.C == 0 || p.P == 0 {
		return fmt.Errorf("winograd_dw: K, C, P must be positive: %+v", p)
	}
	if err := winogradKernel("winograd_dw", p.R, p.S); err != nil {
		return err
	}
	if err := winogradK5("winograd_dw", p.K5, p.R, p.S); err != nil {
		return err
	}
	return winogradF4("winograd_dw", p.F4, p.K5, p.R, p.S)
}

// WinogradGradPlan is the filter gradient of a 3x3 stride-1 convolution as
// Winograd F(3x3,2x2)'s four dispatches, in order: Input (x -> V), Dy (dy
// -> E), Gemm (V, E -> M) and Output (M, E -> dw, db). VLen, ELen and MLen
// are the sizes of the scratch buffers V, E and M in float32 elements.
type WinogradGradPlan struct {
	Input            WinogradInput
	Dy               WinogradDy
	Gemm             Gemm
	Output           WinogradDw
	VLen, ELen, MLen int
}

// WinogradGrad plans layer g's filter and bias gradients (what
// Conv2DBwdFilter computes) as F(3x3,2x2), an R x S kernel over 3x3 as
// Blocks() 3x3 blocks (the rows of the Gemm), a 5x5 kernel as one
// F(5x5,2x2) (K5, WinogradK5). It reports false when the
// layer does not admit it: not a valid geometry, a kernel side outside 3
// to WinogradMaxKernel, a stride other than 1, or a buffer over
// MaxElements.
func WinogradGrad(g Conv2DShape) (WinogradGradPlan, bool) {
	return winogradGrad(g, 0)
}

// WinogradGrad4 plans layer g's filter and bias gradients as F(3x3,4x4)
// over F(4x4,3x3)'s tiles (its input transform, the F4 params of
// WinogradDy and WinogradDw), a kernel over 3x3 as 3x3 blocks (the rows of
// the Gemm): a Gemm of Batch 36 over a quarter of F(3x3,2x2)'s tiles. It
// reports false where WinogradGrad does.
func WinogradGrad4(g Conv2DShape) (WinogradGradPlan, bool) {
	return winogradGrad(g, 1)
}

// winogradGrad is WinogradGrad, or with f4 1 WinogradGrad4.
func winogradGrad(g Conv2DShape, f4 uint32) (WinogradGradPlan, bool) {
	if WinogradRefusal(g, false) != nil {
		return WinogradGradPlan{}, false
	}
	k5 := WinogradK5(g.R, g.S) * (1 - f4)
	in := WinogradInput{N: g.N, C: g.C, H: g.H, W: g.W, PadH: g.PadH, PadW: g.PadW, R: g.R, S: g.S, OH: g.OH, OW: g.OW, K5: k5, F4: f4}
	dy := WinogradDy{N: g.N, K: g.K, OH: g.OH, OW: g.OW, K5: k5, F4: f4}
	p := u32(in.Tiles())
	pl := WinogradGradPlan{Input: in, Dy: dy,
		Gemm:   Gemm{M: g.C * in.Blocks(), N: g.K, K: p, Alpha: 1, Batch: u32(in.Points())},
		Output: WinogradDw{K: g.K, C: g.C, P: p, R: g.R, S: g.S, K5: k5, F4: f4}}
	s := pl.Gemm.BufferSizes()
	pl.VLen, pl.ELen, pl.MLen = s[0], s[1], s[2]
	for _, q := range pl.Dispatches() {
		if q.Validate() != nil {
			return WinogradGradPlan{}, false
		}
		for _, n := range q.BufferSizes() {
			if n > MaxElements {
				return WinogradGradPlan{}, false
			}
		}
	}
	return pl, true
}

// Dispatches are the plan's four params in dispatch order.
func (pl WinogradGradPlan) Dispatches() []Params {
	return []Params{pl.Input, pl.Dy, pl.Gemm, pl.Output}
}
