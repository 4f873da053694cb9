package ref

import "github.com/crossgrad/crossgrad/backend"

// Gemm computes C = Alpha*op(A)*op(B) + Beta*C over row-major matrices:
// op(A) is M x K (a stored K x M when TransA != 0), op(B) is K x N (b stored
// N x K when TransB != 0), C is M x N. Products are summed in float64 and the
// result is rounded once to float32. With Beta == 0, C is not read (NaN in C
// does not propagate). a[M*K] and b[K*N] are read; c[M*N] is overwritten.
// c must not overlap a or b.
func Gemm(p backend.Gemm, a, b, c []float32) {
	m, n, k := int(p.M), int(p.N), int(p.K)
	alpha, beta := float64(p.Alpha), float64(p.Beta)
	parallelFor(m, func(i int) {
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
	})
}
