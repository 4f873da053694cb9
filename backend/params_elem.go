package backend

import (
	"fmt"
	"math"
)

// KReluFwd names ReluFwd.
const KReluFwd Kernel = "relu_fwd"

// ReluFwd computes y = max(x, 0). Buffers: x[N], y[N] (may be the same).
type ReluFwd struct{ N uint32 }

// Kernel implements Params.
func (ReluFwd) Kernel() Kernel { return KReluFwd }

// BufferSizes implements Params.
func (p ReluFwd) BufferSizes() []int { return []int{int(p.N), int(p.N)} }

// Buffers implements Params.
func (ReluFwd) Buffers() []Buf { return inPlace(in("x"), out("y")) }

// Work implements Params.
func (p ReluFwd) Work() Work { return streamed(p) }

// Shape implements Params.
func (p ReluFwd) Shape() string { return elems(p.N) }

// Elements implements Elementwise.
func (p ReluFwd) Elements() int { return int(p.N) }

// WithElements implements Elementwise.
func (p ReluFwd) WithElements(n int) Elementwise { p.N = u32(n); return p }

// Validate implements Params.
func (p ReluFwd) Validate() error { return positive("relu_fwd", "N", p.N) }

// KReluBwd names ReluBwd.
const KReluBwd Kernel = "relu_bwd"

// ReluBwd computes dx = dy where y > 0, else 0, from the forward output y.
// Buffers: y[N], dy[N], dx[N] (dx may be dy).
type ReluBwd struct{ N uint32 }

// Kernel implements Params.
func (ReluBwd) Kernel() Kernel { return KReluBwd }

// BufferSizes implements Params.
func (p ReluBwd) BufferSizes() []int { return []int{int(p.N), int(p.N), int(p.N)} }

// Buffers implements Params.
func (ReluBwd) Buffers() []Buf { return inPlace(in("y"), in("dy"), out("dx")) }

// Work implements Params.
func (p ReluBwd) Work() Work { return streamed(p) }

// Shape implements Params.
func (p ReluBwd) Shape() string { return elems(p.N) }

// Elements implements Elementwise.
func (p ReluBwd) Elements() int { return int(p.N) }

// WithElements implements Elementwise.
func (p ReluBwd) WithElements(n int) Elementwise { p.N = u32(n); return p }

// Validate implements Params.
func (p ReluBwd) Validate() error { return positive("relu_bwd", "N", p.N) }

// KDropoutFwd names DropoutFwd.
const KDropoutFwd Kernel = "dropout_fwd"

// DropoutFwd computes y = x*Scale where element i is kept, else 0. Element i
// is kept when the uniform number u(Seed, Step, Offset+i) in [0,1) from
// Philox4x32-10 is >= P; Scale is 1/(1-P) computed on the host (0 when
// P >= 1), as PyTorch's inverted dropout. Offset is the global index of x[0]
// (a data-parallel shard's first element), so a mask does not depend on how a
// batch is split. Buffers: x[N], y[N] (may be the same).
type DropoutFwd struct {
	N, Seed, Step, Offset uint32
	P, Scale              float32
}

// Kernel implements Params.
func (DropoutFwd) Kernel() Kernel { return KDropoutFwd }

// BufferSizes implements Params.
func (p DropoutFwd) BufferSizes() []int { return []int{int(p.N), int(p.N)} }

// Buffers implements Params.
func (DropoutFwd) Buffers() []Buf { return inPlace(in("x"), out("y")) }

// Work implements Params.
func (p DropoutFwd) Work() Work { return streamed(p) }

// Shape implements Params.
func (p DropoutFwd) Shape() string { return fmt.Sprintf("n=%d p=%g", p.N, p.P) }

// Elements implements Elementwise.
func (p DropoutFwd) Elements() int { return int(p.N) }

// WithElements implements Elementwise.
func (p DropoutFwd) WithElements(n int) Elementwise { p.N = u32(n); return p }

// Validate implements Params.
func (p DropoutFwd) Validate() error { return validDropout("dropout_fwd", p.N, p.P) }

// KDropoutBwd names DropoutBwd.
const KDropoutBwd Kernel = "dropout_bwd"

// DropoutBwd computes dx = dy*Scale where element i was kept by the
// DropoutFwd with the same Seed, Step, Offset and P. Buffers: dy[N], dx[N].
type DropoutBwd struct {
	N, Seed, Step, Offset uint32
	P, Scale              float32
}

// Kernel implements Params.
func (DropoutBwd) Kernel() Kernel { return KDropoutBwd }

// BufferSizes implements Params.
func (p DropoutBwd) BufferSizes() []int { return []int{int(p.N), int(p.N)} }

// Buffers implements Params.
func (DropoutBwd) Buffers() []Buf { return inPlace(in("dy"), out("dx")) }

// Work implements Params.
func (p DropoutBwd) Work() Work { return streamed(p) }

// Shape implements Params.
func (p DropoutBwd) Shape() string { return fmt.Sprintf("n=%d p=%g", p.N, p.P) }

// Elements implements Elementwise.
func (p DropoutBwd) Elements() int { return int(p.N) }

// WithElements implements Elementwise.
func (p DropoutBwd) WithElements(n int) Elementwise { p.N = u32(n); return p }

// Validate implements Params.
func (p DropoutBwd) Validate() error { return validDropout("dropout_bwd", p.N, p.P) }

// DropoutScale is PyTorch's inverted-dropout scale 1/(1-p), and 0 for p >= 1.
func DropoutScale(p float32) float32 {
	if p >= 1 {
		return 0
	}
	return float32(1 / (1 - float64(p)))
}

// KGemm names Gemm.
const KGemm Kernel = "gemm"

// Gemm computes C = Alpha*op(A)*op(B) + Beta*C over row-major matrices, where
// op(A) is M x K (A stored K x M when TransA != 0) and op(B) is K x N (B
// stored N x K when TransB != 0). With Beta == 0, C is not read (NaN in C does
// not propagate). With Batch > 1 it computes Batch independent products of
// contiguous operands: A_b at b*M*K, B_b at b*K*N, C_b at b*M*N (Batch 0 and
// 1 are one product). Buffers: A[Batch*M*K], B[Batch*K*N], C[Batch*M*N].
type Gemm struct {
	M, N, K        uint32
	TransA, TransB uint32
	Alpha, Beta    float32
	Batch          uint32
}

// MaxGemmBatch bounds Gemm.Batch: the backends run the batch index on the
// third grid dimension, of which every Vulkan device admits 65535 groups.
const MaxGemmBatch = 65535

// Batches is the number of products: Batch, and 1 for Batch 0.
func (p Gemm) Batches() int { return int(max(p.Batch, 1)) }

// Kernel implements Params.
func (Gemm) Kernel() Kernel { return KGemm }

// BufferSizes implements Params.
func (p Gemm) BufferSizes() []int {
	b := uint32(p.Batches())
	return []int{mul(b, p.M, p.K), mul(b, p.K, p.N), mul(b, p.M, p.N)}
}

// Buffers implements Params: C is read only when Beta != 0.
func (p Gemm) Buffers() []Buf {
	c := out("C")
	if p.Beta != 0 {
		c = inout("C")
	}
	return []Buf{in("A"), in("B"), c}
}

// Work implements Params.
func (p Gemm) Work() Work {
	return computed(p, 2*product(p.M, p.N, p.K, uint32(p.Batches())))
}

// Shape implements Params, e.g. "M8 N4096 K6400 B^T", with " b=16" after
// it when Batch > 1 (one product keeps the text, and so the tuning key, it
// had before batches existed).
func (p Gemm) Shape() string {
	s := fmt.Sprintf("M%d N%d K%d", p.M, p.N, p.K)
	if p.TransA != 0 {
		s += " A^T"
	}
	if p.TransB != 0 {
		s += " B^T"
	}
	if p.Batch > 1 {
		s += fmt.Sprintf(" b=%d", p.Batch)
	}
	return s
}

// Validate implements Params.
func (p Gemm) Validate() error {
	if p.M == 0 || p.N == 0 || p.K == 0 {
		return fmt.Errorf("gemm: M, N, K must be positive, got %d, %d, %d", p.M, p.N, p.K)
	}
	if p.TransA > 1 || p.TransB > 1 {
		return fmt.Errorf("gemm: TransA and TransB must be 0 or 1, got %d, %d", p.TransA, p.TransB)
	}
	if p.Batch > MaxGemmBatch {
		return fmt.Errorf("gemm: Batch %d exceeds the limit of %d products per dispatch", p.Batch, MaxGemmBatch)
	}
	return nil
}

// KBiasAdd names BiasAdd.
const KBiasAdd Kernel = "bias_add"

// BiasAdd adds b[c] to every row of y[Rows][Cols] in place; with Relu 1 it
// stores max(y + b, 0) (the value ReluFwd would write after it), so that
// Linear+ReLU is a gemm and one pass. Buffers: y[Rows*Cols], b[Cols].
type BiasAdd struct{ Rows, Cols, Relu uint32 }

// Kernel implements Params.
func (BiasAdd) Kernel() Kernel { return KBiasAdd }

// BufferSizes implements Params.
func (p BiasAdd) BufferSizes() []int { return []int{mul(p.Rows, p.Cols), int(p.Cols)} }

// Buffers implements Params.
func (BiasAdd) Buffers() []Buf { return []Buf{inout("y"), in("b")} }

// Work implements Params.
func (p BiasAdd) Work() Work { return streamed(p) }

// Shape implements Params.
func (p BiasAdd) Shape() string { return fmt.Sprintf("%dx%d", p.Rows, p.Cols) }

// Validate implements Params.
func (p BiasAdd) Validate() error {
	if p.Relu > 1 {
		return fmt.Errorf("bias_add: Relu must be 0 or 1, got %d", p.Relu)
	}
	return positive2("bias_add", p.Rows, p.Cols)
}

// KBiasGrad names BiasGrad.
const KBiasGrad Kernel = "bias_grad"

// BiasGrad computes the column sums db[c] = sum over r of dy[r][c].
// With MaskRelu 1 it first applies the backward of the ReLU whose output is
// y, in place: dy[i] = y[i] > 0 ? dy[i] : 0 (ReluBwd's select), and sums
// those; the products that follow then read the masked gradient, so a
// Linear+ReLU needs no relu_bwd pass. Buffers: dy[Rows*Cols] (updated when
// MaskRelu), db[Cols] (overwritten), and with MaskRelu y[Rows*Cols].
type BiasGrad struct{ Rows, Cols, MaskRelu uint32 }

// Kernel implements Params.
func (BiasGrad) Kernel() Kernel { return KBiasGrad }

// BufferSizes implements Params.
func (p BiasGrad) BufferSizes() []int {
	if p.MaskRelu != 0 {
		return []int{mul(p.Rows, p.Cols), int(p.Cols), mul(p.Rows, p.Cols)}
	}
	return []int{mul(p.Rows, p.Cols), int(p.Cols)}
}

// Buffers implements Params.
func (p BiasGrad) Buffers() []Buf {
	if p.MaskRelu != 0 {
		return []Buf{inout("dy"), out("db"), in("y")}
	}
	return []Buf{in("dy"), out("db")}
}

// Work implements Params.
func (p BiasGrad) Work() Work { return streamed(p) }

// Shape implements Params.
func (p BiasGrad) Shape() string { return fmt.Sprintf("%dx%d", p.Rows, p.Cols) }

// Validate implements Params.
func (p BiasGrad) Validate() error {
	if p.MaskRelu > 1 {
		return fmt.Errorf("bias_grad: MaskRelu must be 0 or 1, got %d", p.MaskRelu)
	}
	return positive2("bias_grad", p.Rows, p.Cols)
}

// KSoftmaxXent names SoftmaxXent.
const KSoftmaxXent Kernel = "softmax_xent"

// SoftmaxXent is softmax followed by cross-entropy against integer labels,
// averaged over the batch as torch.nn.CrossEntropyLoss. It writes the
// gradient of the mean loss with respect to the logits, and stats[0] = mean
// loss, stats[1] = number of rows whose first maximal logit is the label.
// Buffers: logits[N*C], labels[N] (class index as float), dlogits[N*C],
// stats[2].
type SoftmaxXent struct{ N, C uint32 }

// Kernel implements Params.
func (SoftmaxXent) Kernel() Kernel { return KSoftmaxXent }

// BufferSizes implements Params.
func (p SoftmaxXent) BufferSizes() []int {
	return []int{mul(p.N, p.C), int(p.N), mul(p.N, p.C), 2}
}

// Buffers implements Params.
func (SoftmaxXent) Buffers() []Buf {
	return []Buf{in("logits"), in("labels"), out("dlogits"), out("stats")}
}

// Work implements Params.
func (p SoftmaxXent) Work() Work { return streamed(p) }

// Shape implements Params.
func (p SoftmaxXent) Shape() string { return fmt.Sprintf("N%d C%d", p.N, p.C) }

// Validate implements Params.
func (p SoftmaxXent) Validate() error { return positive2("softmax_xent", p.N, p.C) }

// KAdam names Adam.
const KAdam Kernel = "adam"

// Adam applies one torch.optim.Adam step (weight_decay 0, amsgrad off):
//
//	m += OneMinusBeta1*(g-m); v = Beta2*v + OneMinusBeta2*g*g
//	p -= StepSize * m / (sqrt(v)/BC2Sqrt + Eps)
//
// with StepSize = lr/(1-Beta1^t), BC2Sqrt = sqrt(1-Beta2^t) and
// OneMinusBetaN = 1-BetaN computed on the host in float64 and rounded to
// float32, which are the scalars torch applies to float32 tensors (see
// NewAdam). Buffers: p[N], g[N], m[N], v[N].
type Adam struct {
	N                 uint32
	Beta1, Beta2, Eps float32
	StepSize, BC2Sqrt float32
	OneMinusBeta1     float32
	OneMinusBeta2     float32
}

// NewAdam returns the Adam params of step t (1-based) for n parameters.
func NewAdam(n int, lr, beta1, beta2, eps float64, t int) Adam {
	bc1 := 1 - math.Pow(beta1, float64(t))
	bc2 := 1 - math.Pow(beta2, float64(t))
	return Adam{N: u32(n), Beta1: float32(beta1), Beta2: float32(beta2), Eps: float32(eps),
		StepSize: float32(lr / bc1), BC2Sqrt: float32(math.Sqrt(bc2)),
		OneMinusBeta1: float32(1 - beta1), OneMinusBeta2: float32(1 - beta2)}
}

// Kernel implements Params.
func (Adam) Kernel() Kernel { return KAdam }

// BufferSizes implements Params.
func (p Adam) BufferSizes() []int { n := int(p.N); return []int{n, n, n, n} }

// Buffers implements Params.
func (Adam) Buffers() []Buf { return inPlace(inout("p"), in("g"), inout("m"), inout("v")) }

// Work implements Params.
func (p Adam) Work() Work { return streamed(p) }

// Shape implements Params.
func (p Adam) Shape() string { return elems(p.N) }

// Elements implements Elementwise.
func (p Adam) Elements() int { return int(p.N) }

// WithElements implements Elementwise.
func (p Adam) WithElements(n int) Elementwise { p.N = u32(n); return p }

// Validate implements Params.
func (p Adam) Validate() error {
	if err := positive("adam", "N", p.N); err != nil {
		return err
	}
	if !(p.BC2Sqrt > 0) || !(p.Beta1 >= 0 && p.Beta1 < 1) || !(p.Beta2 >= 0 && p.Beta2 < 1) ||
		!(p.OneMinusBeta1 > 0 && p.OneMinusBeta1 <= 1) || !(p.OneMinusBeta2 > 0 && p.OneMinusBeta2 <= 1) {
		return fmt.Errorf("adam: need 0 <= betas < 1 and BC2Sqrt > 0, got %+v (use NewAdam)", p)
	}
	return nil
}

// KFill names Fill.
const KFill Kernel = "fill"

// Fill sets x[i] = Value. Buffers: x[N].
type Fill struct {
	N     uint32
	Value float32
}

// Kernel implements Params.
func (Fill) Kernel() Kernel { return KFill }

// BufferSizes implements Params.
func (p Fill) BufferSizes() []int { return []int{int(p.N)} }

// Buffers implements Params.
func (Fill) Buffers() []Buf { return []Buf{out("x")} }

// Work implements Params.
func (p Fill) Work() Work { return streamed(p) }

// Shape implements Params.
func (p Fill) Shape() string { return elems(p.N) }

// Elements implements Elementwise.
func (p Fill) Elements() int { return int(p.N) }

// WithElements implements Elementwise.
func (p Fill) WithElements(n int) Elementwise { p.N = u32(n); return p }

// Validate implements Params.
func (p Fill) Validate() error { return positive("fill", "N", p.N) }

// KAxpy names Axpy.
const KAxpy Kernel = "axpy"

// Axpy computes y += Alpha*x. Buffers: x[N], y[N].
type Axpy struct {
	N     uint32
	Alpha float32
}

// Kernel implements Params.
func (Axpy) Kernel() Kernel { return KAxpy }

// BufferSizes implements Params.
func (p Axpy) BufferSizes() []int { return []int{int(p.N), int(p.N)} }

// Buffers implements Params.
func (Axpy) Buffers() []Buf { return inPlace(in("x"), inout("y")) }

// Work implements Params.
func (p Axpy) Work() Work { return streamed(p) }

// Shape implements Params.
func (p Axpy) Shape() string { return elems(p.N) }

// Elements implements Elementwise.
func (p Axpy) Elements() int { return int(p.N) }

// WithElements implements Elementwise.
func (p Axpy) WithElements(n int) Elementwise { p.N = u32(n); return p }

// Validate implements Params.
func (p Axpy) Validate() error { return positive("axpy", "N", p.N) }

// KScale names Scale.
const KScale Kernel = "scale"

// Scale computes x *= Alpha. Buffers: x[N].
type Scale struct {
	N     uint32
	Alpha float32
}

// Kernel implements Params.
func (Scale) Kernel() Kernel { return KScale }

// BufferSizes implements Params.
func (p Scale) BufferSizes() []int { return []int{int(p.N)} }

// Buffers implements Params.
func (Scale) Buffers() []Buf { return []Buf{inout("x")} }

// Work implements Params.
func (p Scale) Work() Work { return streamed(p) }

// Shape implements Params.
func (p Scale) Shape() string { return elems(p.N) }

// Elements implements Elementwise.
func (p Scale) Elements() int { return int(p.N) }

// WithElements implements Elementwise.
func (p Scale) WithElements(n int) Elementwise { p.N = u32(n); return p }

// Validate implements Params.
func (p Scale) Validate() error { return positive("scale", "N", p.N) }

// KResizeBilinear names ResizeBilinear.
const KResizeBilinear Kernel = "resize_bilinear"

// ResizeBilinear resizes N single-channel uint8 images of InH x InW to float
// OutH x OutW in [0,1], as torchvision Resize (PIL bilinear, half-pixel
// centres, a horizontal pass rounded to uint8, then a vertical pass rounded to
// uint8) followed by ToTensor (/255). With Packed != 0 the source holds the
// bytes packed four per 32-bit word, little-endian (see PackBytes), image i
// starting at byte i*InH*InW; otherwise one byte value per float.
// Buffers: src[SrcLen()], dst[N*OutH*OutW].
type ResizeBilinear struct {
	N, InH, InW, OutH, OutW, Packed uint32
}

// Kernel implements Params.
func (ResizeBilinear) Kernel() Kernel { return KResizeBilinear }

// SrcLen is the float32 element count of the source buffer.
func (p ResizeBilinear) SrcLen() int {
	n := mul(p.N, p.InH, p.InW)
	if p.Packed != 0 {
		return (n + 3) / 4
	}
	return n
}

// BufferSizes implements Params.
func (p ResizeBilinear) BufferSizes() []int {
	return []int{p.SrcLen(), mul(p.N, p.OutH, p.OutW)}
}

// Buffers implements Params.
func (ResizeBilinear) Buffers() []Buf { return []Buf{in("src"), out("dst")} }

// Work implements Params.
func (p ResizeBilinear) Work() Work { return streamed(p) }

// Shape implements Params.
func (p ResizeBilinear) Shape() string {
	return fmt.Sprintf("N%d %dx%d -> %dx%d", p.N, p.InH, p.InW, p.OutH, p.OutW)
}

// Validate implements Params.
func (p ResizeBilinear) Validate() error {
	if p.N == 0 || p.InH == 0 || p.InW == 0 || p.OutH == 0 || p.OutW == 0 {
		return fmt.Errorf("resize_bilinear: every size must be positive: %+v", p)
	}
	return nil
}

// elems is the Shape of a kernel over n elements.
func elems(n uint32) string { return fmt.Sprintf("n=%d", n) }

func positive(kernel, field string, v uint32) error {
	if v == 0 {
		return fmt.Errorf("%s: %s must be positive", kernel, field)
	}
	return nil
}

func positive2(kernel string, rows, cols uint32) error {
	if rows == 0 || cols == 0 {
		return fmt.Errorf("%s: Rows and Cols must be positive, got %d, %d", kernel, rows, cols)
	}
	return nil
}

func validDropout(kernel string, n uint32, p float32) error {
	if err := positive(kernel, "N", n); err != nil {
		return err
	}
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("%s: P must be in [0,1], got %v", kernel, p)
	}
	return nil
}
