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
	winogradGradG  = [4][2]float64{{2, 0}, {1, 1}, {1, -1}, {0, 2}}
	winogradGradAT = [3][4]float64{{0.5, 0.5, 0.5, 0}, {0, 0.5, -0.5, 0}, {0, 0.5, 0.5, -0.5}}
)

// WinogradDy computes E[ξ][t][k] = (G' e G'^T)[ξ] for every tile t and
// channel k of p, e the 2x2 tile of dy[n][k] at rows 2*th.. and columns
// 2*tw.. (zero past OH, OW), in float64 rounded once. dy[N*K*OH*OW] is
// read; E[16*P*K] is overwritten. p.MaskRelu is applied by Run, which
// passes the masked dy.
func WinogradDy(p backend.WinogradDy, dy, e []float32) {
	kk, oh, ow := int(p.K), int(p.OH), int(p.OW)
	th, tw := (oh+1)/2, (ow+1)/2
	tiles := int(p.N) * th * tw
	parallelFor(tiles, func(t int) {
		img, r := t/(th*tw), t%(th*tw)
		y0, x0 := 2*(r/tw), 2*(r%tw)
		for k := range kk {
			var d [2][2]float64
			for a := range 2 {
				for b := range 2 {
					if y, x := y0+a, x0+b; y < oh && x < ow {
						d[a][b] = float64(dy[((img*kk+k)*oh+y)*ow+x])
					}
				}
			}
			for i := range 4 {
				for j := range 4 {
					var s float64
					for a := range 2 {
						for b := range 2 {
							s += winogradGradG[i][a] * d[a][b] * winogradGradG[j][b]
						}
					}
					e[((4*i+j)*tiles+t)*kk+k] = float32(s)
				}
			}
		}
	})
}

// WinogradDw computes, for every output channel k, input channel c and
// block q = a*WinogradBlocks(S)+b of the R x S kernel, A'^T m A' (3x3) of
// m[ξ] = M[ξ][q*C+c][k] into dw[k][c][3*a+r][3*b+s] inside R x S, and
// db[k], the sum over the tiles t (in t order) of E[5][t][k], each in
// float64 rounded once. M[16*Q*C*K] and E[16*P*K] are read; dw[K*C*R*S]
// and db[K] are overwritten.
func WinogradDw(p backend.WinogradDw, m, e, dw, db []float32) {
	kk, cc, tiles, rr, ss := int(p.K), int(p.C), int(p.P), int(p.R), int(p.S)
	rows, bs := int(p.Blocks())*cc, int(backend.WinogradBlocks(p.S))
	parallelFor(kk, func(k int) {
		var bias float64
		for t := range tiles {
			bias += float64(e[(5*tiles+t)*kk+k])
		}
		db[k] = float32(bias)
		for row := range rows {
			q, c := row/cc, row%cc
			for r := range 3 {
				for s := range 3 {
					kr, ks := 3*(q/bs)+r, 3*(q%bs)+s
					if kr >= rr || ks >= ss {
						continue
					}
					var acc float64
					for a := range 4 {
						for b := range 4 {
							acc += winogradGradAT[r][a] * float64(m[((4*a+b)*rows+row)*kk+k]) * winogradGradAT[s][b]
						}
					}
					dw[((k*cc+c)*rr+kr)*ss+ks] = float32(acc)
				}
			}
		}
	})
}
