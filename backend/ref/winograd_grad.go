package ref

import "github.com/crossgrad/crossgrad/backend"

// The transform matrices of Winograd's F(3x3,2x2), the filter gradient of
// a 3x3 correlation: over the 2x2 output tiles e of dy, the 3x3 gradient
// dW_t[r][s] = sum_{i,j<2} e[i][j] d[i+r][j+s] of one tile, d the 4x4
// input window of that tile, is
//
//	dW_t = A'^T [ (G' e G'^T) ⊙ (B^T d B) ] A'
//
// with F(2x2,3x3)'s B^T (winogradBT) and
//
//	G' = [ 2  0 ]    A'^T = 1/2 [ 1  1  1  0 ]
//	     [ 1  1 ]               [ 0  1 -1  0 ]
//	     [ 1 -1 ]               [ 0  1  1 -1 ]
//	     [ 0  2 ]
//
// G' is twice the textbook matrix (rows 1, 1/2 ±1/2, 1 at the points 0,
// ±1, ∞) so that every entry is an integer and E[5] = (1,1) e (1,1)^T is
// the sum of the tile, from which winograd_dw reads db; A'^T's factor 1/2
// undoes the doubling (one factor of 2 from each side of G' e G'^T, one
// 1/2 from each side of A'^T m A'). Summed over the tiles t, the products
// are the batched Gemm of backend.WinogradGradPlan.
var (
	winogradGradG  = [][]float64{{2, 0}, {1, 1}, {1, -1}, {0, 2}}
	winogradGradAT = [][]float64{{0.5, 0.5, 0.5, 0}, {0, 0.5, -0.5, 0}, {0, 0.5, 0.5, -0.5}}
)

// WinogradDy computes E[ξ][t][k] = (G' e G'^T)[ξ] for every tile t and
// channel k of p, e the 2x2 tile of dy[n][k] at rows 2*th.. and columns
// 2*tw.. (zero past OH, OW), G' that of p's algorithm (F(3x3,2x2), or
// F(5x5,2x2) with K5; with F4 F(3x3,4x4)'s of the 4x4 tile at rows 4*th..
// and columns 4*tw..), in float64 rounded once. dy[N*K*OH*OW] is read;
// E[Points()*P*K] is overwritten. p.MaskRelu is applied by Run, which
// passes the masked dy.
func WinogradDy(p backend.WinogradDy, dy, e []float32) {
	alg := algOf(p.K5, p.F4)
	kk, oh, ow := int(p.K), int(p.OH), int(p.OW)
	th, tw := tilesOf(p.OH, p.OW, p.F4)
	tiles := int(p.N) * th * tw
	parallelFor(tiles, func(t int) {
		img, r := t/(th*tw), t%(th*tw)
		y0, x0 := alg.m*(r/tw), alg.m*(r%tw)
		d, out := square(alg.m), square(alg.a)
		for k := range kk {
			for a := range alg.m {
				for b := range alg.m {
					d[a][b] = 0
					if y, x := y0+a, x0+b; y < oh && x < ow {
						d[a][b] = float64(dy[((img*kk+k)*oh+y)*ow+x])
					}
				}
			}
			sandwich(out, alg.gradG, d, alg.gradG)
			for i := range alg.a {
				for j := range alg.a {
					e[((alg.a*i+j)*tiles+t)*kk+k] = float32(out[i][j])
				}
			}
		}
	})
}

// WinogradDw computes, for every output channel k, input channel c and
// block q = a*BS+b of the R x S kernel, A'^T m A' (r x r, the block side
// of p's algorithm) of m[ξ] = M[ξ][q*C+c][k] into dw[k][c][r*a+i][r*b+j]
// inside R x S, and db[k], the sum over the tiles t (in t order) of
// E[ξs][t][k] divided by the algorithm's scale (ξs = 5 and 1, or 7 and 16
// with K5 or F4), each in float64 rounded once. M[Points()*Q*C*K] and
// E[Points()*P*K] are read; dw[K*C*R*S] and db[K] are overwritten.
func WinogradDw(p backend.WinogradDw, m, e, dw, db []float32) {
	alg := algOf(p.K5, p.F4)
	kk, cc, tiles, rr, ss := int(p.K), int(p.C), int(p.P), int(p.R), int(p.S)
	rows, bs := int(p.Blocks())*cc, int(backend.WinogradBlocksAlong(p.S, p.K5))
	parallelFor(kk, func(k int) {
		var bias float64
		for t := range tiles {
			bias += float64(e[(alg.sum*tiles+t)*kk+k])
		}
		db[k] = float32(bias / alg.sumScale)
		mt, out := square(alg.a), square(alg.r)
		for row := range rows {
			q, c := row/cc, row%cc
			for a := range alg.a {
				for b := range alg.a {
					mt[a][b] = float64(m[((alg.a*a+b)*rows+row)*kk+k])
				}
			}
			sandwich(out, alg.gradAT, mt, alg.gradAT)
			for r := range alg.r {
				for s := range alg.r {
					kr, ks := alg.r*(q/bs)+r, alg.r*(q%bs)+s
					if kr < rr && ks < ss {
						dw[((k*cc+c)*rr+kr)*ss+ks] = float32(out[r][s])
					}
				}
			}
		}
	})
}
