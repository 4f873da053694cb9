package ref

import "github.com/crossgrad/crossgrad/backend"

// Gemm computes C = Alpha*op(A)*op(B) + Beta*C over row-major matrices:
// op(A) is M x K (a stored K x M when TransA != 0), op(B) is K x N (b stored
// N x K when TransB != 0), C is M x N. Products are summed in float64 and the
// result is rounded once to float32. With Beta == 0, C is not read (NaN in C
// does not propagate). With Batch > 1 it computes the Batch products of the
// contiguous operands a[b*M*K:], b[b*K*N:], c[b*M*N:]. a[Batch*M*K] and
// b[Batch*K*N] are read; c[Batch*M*N] is overwritten. c must not overlap a
// or b.
func Gemm(p backend.Gemm, a, b, c []float32) {
	m, n, k := int(p.M), int(p.N), int(p.K)
	parallelFor(p.Batches()*m, func(row int) {
		z, i := row/m, row%m
		gemmRow(p, i, a[z*m*k:][:m*k], b[z*k*n:][:k*n], c[z*m*n:][:m*n])
	})
}

// gemmRow computes row i of one product of Gemm.
func gemmRow(p backend.Gemm, i int, a, b, c []float32) {
	m, n, k := int(p.M), int(p.N), int(p.K)
	alpha, beta := float64(p.Alpha), float64(p.Beta)
	// Row i of op(A), gathered once.
	arow := make([]float64, k)
	for l := range k {
		if p.TransA != 0 {
			arow[l] = float64(a[l*m+i])
		} else {
			arow[l] = float64(a[i*k+l])
		}
	}
	acc := make([]float64, n)
	if p.TransB != 0 {
		for j := range n {
			var s float64
			for l, bv := range b[j*k:][:k] {
				s += arow[l] * float64(bv)
			}
			acc[j] = s
		}
	} else {
		for l, av := range arow {
			for j, bv := range b[l*n:][:n] {
				acc[j] += av * float64(bv)
			}
		}
	}
	crow := c[i*n:][:n]
	for j, s := range acc {
		if beta == 0 {
			crow[j] = float32(alpha * s)
		} else {
			crow[j] = float32(alpha*s + beta*float64(crow[j]))
		}
	}
}
