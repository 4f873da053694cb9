package backendtest

import (
	"math"

	"github.com/crossgrad/crossgrad/backend"
)

// Tolerance bounds the error of one output element: got passes when
// |got-ref| <= Atol + Rtol*|ref| (or got == ref). NaN in got always fails.
type Tolerance struct{ Atol, Rtol float64 }

// Allowed is the largest |got-ref| accepted for a reference value ref.
func (t Tolerance) Allowed(ref float64) float64 { return t.Atol + t.Rtol*math.Abs(ref) }

// Within reports whether got matches ref within t. NaN in got never does.
func (t Tolerance) Within(got, ref float64) bool {
	if math.IsNaN(got) {
		return false
	}
	if got == ref {
		return true
	}
	return math.Abs(got-ref) <= t.Allowed(ref)
}

// excess is |got-ref| / Allowed(ref): <= 1 passes; +Inf for NaN in got or a
// difference where nothing is allowed.
func (t Tolerance) excess(got, ref float64) float64 {
	if math.IsNaN(got) || math.IsNaN(ref) {
		return math.Inf(1)
	}
	if got == ref {
		return 0
	}
	d := math.Abs(got - ref)
	a := t.Allowed(ref)
	if a == 0 || math.IsNaN(d) {
		return math.Inf(1)
	}
	return d / a
}

// ToleranceUnit is the reduction length at which the Atol of a reduction
// kernel in Tolerances applies unscaled (see Case.Tolerance).
const ToleranceUnit = 1024

// Tolerances states, in one place, how far each kernel of the device under
// test (float32 arithmetic, any summation order, FMA contraction allowed) may
// stray from the reference backend (float64 accumulation).
//
// The suite feeds reductions inputs scaled as a network's are (weights and
// gradients divided by the square root of the fan-in), so reduced outputs are
// of order 1 and a float32 sum of L terms carries a rounding error growing
// like sqrt(L). For the reduction kernels (gemm, the three conv2d kernels and
// bias_grad) Atol is therefore stated for a reduction length of ToleranceUnit
// terms and a case reducing over L > ToleranceUnit terms uses
// Atol*sqrt(L/ToleranceUnit); L is K for gemm, C*R*S for conv2d_fwd, K*R*S
// for conv2d_bwd_data, N*OH*OW for conv2d_bwd_filter, Rows for bias_grad
// and the tile count P for winograd_dw (its db).
//
// Exact kernels have Atol = Rtol = 0: relu (forward and backward), fill,
// maxpool_fwd (both the values and the argmax idx), count_nonfinite (an
// integer count). Dropout has Atol 0 so that its mask must match exactly:
// the suite's inputs keep |x| >= 1e-3, so a kept element wrongly dropped (or
// the reverse) can never pass on Rtol alone.
// The softmax_xent accuracy count stats[1] is an exact integer under its
// tolerance for any count below 1e5. resize_bilinear may differ by one uint8
// level (1/255) where float32 and float64 round a .5 boundary differently.
// The Winograd transforms are sums of at most 16 terms of order 1 (the
// suite's inputs; in a network, the transformed activations and products
// scale with them), so they may differ by a few float32 ulps of the
// largest sum: winograd_input's sums of 16 inputs of |x| < 1, and
// winograd_output's of 9 products plus a bias, are held to a few 1e-7
// each; winograd_filter's weights are of order 1/sqrt(9C).
// winograd_dy's sums are of at most 4 terms with the integer weights 1,
// 2 and 4 of G' (|E| <= 4 for |dy| < 1): a few float32 ulps of 4, as
// winograd_input. winograd_dw's dw sums 16 products of |M| < 1 with the
// factors ±1/2 of A'^T on either side (|dw| <= 9/4, a few 1e-7), but its
// db is a float32 sum of P terms, bias_grad's reduction: Atol is
// bias_grad's bound at ToleranceUnit terms, scaled by sqrt(P/ToleranceUnit)
// (see ReductionLength), and covers dw with room to spare.
var Tolerances = map[backend.Kernel]Tolerance{
	backend.KConv2DFwd:       {Atol: 1e-4, Rtol: 1e-4},
	backend.KConv2DBwdData:   {Atol: 1e-4, Rtol: 1e-4},
	backend.KConv2DBwdFilter: {Atol: 2e-4, Rtol: 1e-4},
	backend.KMaxPoolFwd:      {Atol: 0, Rtol: 0},
	backend.KMaxPoolBwd:      {Atol: 1e-6, Rtol: 1e-6},
	backend.KReluFwd:         {Atol: 0, Rtol: 0},
	backend.KReluBwd:         {Atol: 0, Rtol: 0},
	backend.KDropoutFwd:      {Atol: 0, Rtol: 1e-6},
	backend.KDropoutBwd:      {Atol: 0, Rtol: 1e-6},
	backend.KGemm:            {Atol: 1e-4, Rtol: 1e-4},
	backend.KBiasAdd:         {Atol: 1e-6, Rtol: 1e-6},
	backend.KBiasGrad:        {Atol: 1e-5, Rtol: 1e-5},
	backend.KSoftmaxXent:     {Atol: 1e-6, Rtol: 1e-5},
	backend.KAdam:            {Atol: 1e-6, Rtol: 1e-5},
	backend.KFill:            {Atol: 0, Rtol: 0},
	backend.KAxpy:            {Atol: 1e-6, Rtol: 1e-6},
	backend.KScale:           {Atol: 0, Rtol: 1e-6},
	backend.KResizeBilinear:  {Atol: 1.0/255 + 1e-6, Rtol: 0},
	backend.KCountNonfinite:  {Atol: 0, Rtol: 0},
	backend.KWinogradInput:   {Atol: 2e-6, Rtol: 1e-6},
	backend.KWinogradFilter:  {Atol: 1e-6, Rtol: 1e-6},
	backend.KWinogradOutput:  {Atol: 4e-6, Rtol: 1e-6},
	backend.KWinogradDy:      {Atol: 2e-6, Rtol: 1e-6},
	backend.KWinogradDw:      {Atol: 1e-5, Rtol: 1e-5},
}

// WinogradK5Tolerances replace Tolerances for the F(2x2,5x5) transforms
// (params with K5 = 1), whose sums are larger: winograd_input's 36 inputs
// weighted by B^T's rows (absolute sums up to 10 on either side, |V| <=
// 100), winograd_output's by A^T's (up to 7, |y| <= 35 for |M| < 1) and
// winograd_dy's by those of G' (up to 24, |E| <= 576) are held to about four
// float32 ulps of those bounds; winograd_filter's and winograd_dw's
// weights are fractions below 1 (G, and A'^T's 1/24), so their bounds
// stay.
var WinogradK5Tolerances = map[backend.Kernel]Tolerance{
	backend.KWinogradInput:  {Atol: 4e-5, Rtol: 1e-6},
	backend.KWinogradFilter: {Atol: 1e-6, Rtol: 1e-6},
	backend.KWinogradOutput: {Atol: 2e-5, Rtol: 1e-6},
	backend.KWinogradDy:     {Atol: 2.5e-4, Rtol: 1e-6},
	backend.KWinogradDw:     {Atol: 1e-5, Rtol: 1e-5},
}

// ReductionLength is the number of terms summed into one output element of a
// reduction kernel (see Tolerances), or 0 for other kernels.
func ReductionLength(p backend.Params) int {
	switch p := p.(type) {
	case backend.Gemm:
		return int(p.K)
	case backend.Conv2DFwd:
		return int(p.C * p.R * p.S)
	case backend.Conv2DBwdData:
		return int(p.K * p.R * p.S)
	case backend.Conv2DBwdFilter:
		return int(p.N * p.OH * p.OW)
	case backend.BiasGrad:
		return int(p.Rows)
	case backend.WinogradDw:
		return int(p.P)
	}
	return 0
}

// ToleranceFor is Tolerances[p.Kernel()] (WinogradK5Tolerances for the
// F(2x2,5x5) transforms) with Atol scaled by
// sqrt(L/ToleranceUnit) when p reduces over L > ToleranceUnit terms.
func ToleranceFor(p backend.Params) Tolerance {
	t := Tolerances[p.Kernel()]
	if w, ok := p.(interface{ Points() int }); ok && w.Points() == backend.WinogradPoints5 {
		t = WinogradK5Tolerances[p.Kernel()]
	}
	if l := ReductionLength(p); l > ToleranceUnit {
		t.Atol *= math.Sqrt(float64(l) / ToleranceUnit)
	}
	return t
}
