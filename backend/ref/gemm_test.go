package ref

import (
	"fmt"
	"math"
	"testing"

	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// opAt returns element (i, l) of op(X) where X is stored rows x cols
// (transposed when trans).
func opAt(x []float32, trans bool, i, l, rows, cols int) float64 {
	if trans {
		return float64(x[l*rows+i])
	}
	return float64(x[i*cols+l])
}

func naiveGemm(p backend.Gemm, a, b, c []float32) []float64 {
	m, n, k := int(p.M), int(p.N), int(p.K)
	out := make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s float64
			for l := range k {
				s += opAt(a, p.TransA != 0, i, l, m, k) * opAt(b, p.TransB != 0, l, j, k, n)
			}
			out[i*n+j] = float64(p.Alpha) * s
			if p.Beta != 0 {
				out[i*n+j] += float64(p.Beta) * float64(c[i*n+j])
			}
		}
	}
	return out
}

func TestGemmMatchesFormula(t *testing.T) {
	for _, ta := range []uint32{0, 1} {
		for _, tb := range []uint32{0, 1} {
			for _, beta := range []float32{0, 0.5} {
				p := backend.Gemm{M: 5, N: 7, K: 3, TransA: ta, TransB: tb, Alpha: 1.5, Beta: beta}
				t.Run(fmt.Sprintf("ta%d_tb%d_beta%g", ta, tb, beta), func(t *testing.T) {
					r := testutil.NewRNG(uint64(ta*4 + tb*2))
					a, b := testutil.RandSlice(r, 15), testutil.RandSlice(r, 21)
					c := testutil.RandSlice(r, 35)
					if beta == 0 {
						c = testutil.NaNSlice(35) // must not be read
					}
					want := naiveGemm(p, a, b, c)
					require.NoError(t, Run(p, a, b, c))
					testutil.RequireClose(t, c, want, 1e-6, 1e-6, "C")
				})
			}
		}
	}
}

// The gradients of L = sum(dC * Alpha*op(A)*op(B)) with respect to A and B
// are themselves gemms with transposed operands; they are checked against
// central differences (L is linear in each operand, tolerance 1e-3).
func TestGemmGradientsFiniteDifferences(t *testing.T) {
	const m, n, k = 5, 7, 3
	for _, ta := range []uint32{0, 1} {
		for _, tb := range []uint32{0, 1} {
			t.Run(fmt.Sprintf("ta%d_tb%d", ta, tb), func(t *testing.T) {
				r := testutil.NewRNG(20 + uint64(ta*2+tb))
				p := backend.Gemm{M: m, N: n, K: k, TransA: ta, TransB: tb, Alpha: 1.25}
				a, b, dc := testutil.RandSlice(r, m*k), testutil.RandSlice(r, k*n), testutil.RandSlice(r, m*n)
				c := make([]float32, m*n)
				loss := func() float64 {
					Gemm(p, a, b, c)
					return testutil.Dot64(dc, c)
				}
				da := testutil.NaNSlice(m * k)
				if ta == 0 { // dA = Alpha * dC * op(B)^T
					require.NoError(t, Run(backend.Gemm{M: m, N: k, K: n, TransA: 0, TransB: 1 - tb, Alpha: p.Alpha}, dc, b, da))
				} else { // dA (stored K x M) = Alpha * op(B) * dC^T
					require.NoError(t, Run(backend.Gemm{M: k, N: m, K: n, TransA: tb, TransB: 1, Alpha: p.Alpha}, b, dc, da))
				}
				testutil.RequireClose(t, da, testutil.FiniteDiff(a, 1e-2, loss), 1e-3, 1e-3, "dA")
				db := testutil.NaNSlice(k * n)
				if tb == 0 { // dB = Alpha * op(A)^T * dC
					require.NoError(t, Run(backend.Gemm{M: k, N: n, K: m, TransA: 1 - ta, TransB: 0, Alpha: p.Alpha}, a, dc, db))
				} else { // dB (stored N x K) = Alpha * dC^T * op(A)
					require.NoError(t, Run(backend.Gemm{M: n, N: k, K: m, TransA: 1, TransB: ta, Alpha: p.Alpha}, dc, a, db))
				}
				testutil.RequireClose(t, db, testutil.FiniteDiff(b, 1e-2, loss), 1e-3, 1e-3, "dB")
			})
		}
	}
}

func TestGemmBetaZeroIgnoresNaN(t *testing.T) {
	a, b := []float32{1, 2}, []float32{3, 4}
	c := []float32{float32(math.NaN())}
	require.NoError(t, Run(backend.Gemm{M: 1, N: 1, K: 2, Alpha: 1, Beta: 0}, a, b, c))
	require.Equal(t, []float32{11}, c)
	c[0] = float32(math.Inf(1))
	require.NoError(t, Run(backend.Gemm{M: 1, N: 1, K: 2, Alpha: 2, Beta: 0}, a, b, c))
	require.Equal(t, []float32{22}, c)
	c[0] = 1
	require.NoError(t, Run(backend.Gemm{M: 1, N: 1, K: 2, Alpha: 1, Beta: -3}, a, b, c))
	require.Equal(t, []float32{8}, c)
}
