package ref

import "github.com/crossgrad/crossgrad/backend"

// The transform matrices of Winograd's F(2x2,3x3) (Lavin and Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2015): a 2x2 output tile
// of the 3x3 correlation of a 4x4 input tile d with a filter g is
//
//	Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A
//
// with
//
//	B^T = [ 1  0 -1  0 ]    G = [ 1    0    0   ]    A^T = [ 1  1  1  0 ]
//	      [ 0  1  1  0 ]        [ 1/2  1/2  1/2 ]          [ 0  1 -1 -1 ]
//	      [ 0 -1  1  0 ]        [ 1/2 -1/2  1/2 ]
//	      [ 0  1  0 -1 ]        [ 0    0    1   ]
//
// ⊙ the element-wise product, which over C channels is the batched Gemm of
// backend.WinogradPlan (16 products, one per element ξ = 4*i+j).
var (
	winogradBT = [4][4]float64{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}
	winogradG  = [4][3]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}
	winogradAT = [2][4]float64{{1, 1, 1, 0}, {0, 1, -1, -1}}
)

// WinogradInput computes V[ξ][q*C+c][t] = (B^T d B)[ξ] for every block q
// of the kernel, channel c and tile t of p, d the 4x4 window of x at rows
// 2*th-PadH+3*a.. and columns 2*tw-PadW+3*b.. (q = a*WinogradBlocks(S)+b;
// zero outside the image), in float64 rounded once. x[N*C*H*W] is read;
// V[16*Q*C*P] is overwritten. p.MaskRelu is applied by Run, which passes
// the masked x.
func WinogradInput(p backend.WinogradInput, x, v []float32) {
	n, c, h, w := int(p.N), int(p.C), int(p.H), int(p.W)
	th, tw := (int(p.OH)+1)/2, (int(p.OW)+1)/2
	tiles, bs, rows := n*th*tw, int(backend.WinogradBlocks(p.S)), int(p.Blocks())*c
	parallelFor(rows, func(row int) {
		q, ch := row/c, row%c
		for t := range tiles {
			img, r := t/(th*tw), t%(th*tw)
			y0, x0 := 2*(r/tw)-int(p.PadH)+3*(q/bs), 2*(r%tw)-int(p.PadW)+3*(q%bs)
			var d [4][4]float64
			for a := range 4 {
				for b := range 4 {
					if y, xx := y0+a, x0+b; y >= 0 && y < h && xx >= 0 && xx < w {
						d[a][b] = float64(x[((img*c+ch)*h+y)*w+xx])
					}
				}
			}
			for i := range 4 {
				for j := range 4 {
					var s float64
					for a := range 4 {
						for b := range 4 {
							s += winogradBT[i][a] * d[a][b] * winogradBT[j][b]
						}
					}
					v[((4*i+j)*rows+row)*tiles+t] = float32(s)
				}
			}
		}
	})
}

// WinogradFilter computes U[ξ][k][q*C+c] = (G g G^T)[ξ] of block q =
// a*WinogradBlocks(S)+b, g[r][s] = w[k][c][3*a+r][3*b+s], or with BwdData
// U[ξ][c][q*K+k] of g[r][s] = w[k][c][R-1-3*a-r][S-1-3*b-s] (zero past the
// kernel), in float64 rounded once. w[K*C*R*S] is read; U[16*Q*K*C] is
// overwritten.
func WinogradFilter(p backend.WinogradFilter, w, u []float32) {
	kk, cc, rr, ss := int(p.K), int(p.C), int(p.R), int(p.S)
	qq, bs := int(p.Blocks()), int(backend.WinogradBlocks(p.S))
	parallelFor(kk*cc, func(kc int) {
		k, c := kc/cc, kc%cc
		for q := range qq {
			var g [3][3]float64
			for r := range 3 {
				for s := range 3 {
					kr, ks := 3*(q/bs)+r, 3*(q%bs)+s
					if kr >= rr || ks >= ss {
						continue
					}
					if p.BwdData != 0 {
						kr, ks = rr-1-kr, ss-1-ks
					}
					g[r][s] = float64(w[(kc*rr+kr)*ss+ks])
				}
			}
			for i := range 4 {
				for j := range 4 {
					var s float64
					for a := range 3 {
						for b := range 3 {
							s += winogradG[i][a] * g[a][b] * winogradG[j][b]
						}
					}
					o := ((4*i+j)*kk+k)*qq*cc + q*cc + c
					if p.BwdData != 0 {
						o = ((4*i+j)*cc+c)*qq*kk + q*kk + k
					}
					u[o] = float32(s)
				}
			}
		}
	})
}

// WinogradOutput computes, for every channel k and tile t, the 2x2 tile
// A^T m A of m = M[.][k][t] plus b[k] when Bias != 0, in float64 rounded
// once (then clamped as ReluFwd when Relu != 0), into y[n][k] at rows
// 2*th.. and columns 2*tw.. inside OH x OW.
// M[16*K*P] and b are read; y[N*K*OH*OW] is overwritten.
func WinogradOutput(p backend.WinogradOutput, m, b, y []float32) {
	kk, oh, ow := int(p.K), int(p.OH), int(p.OW)
	th, tw := (oh+1)/2, (ow+1)/2
	tiles := int(p.N) * th * tw
	parallelFor(kk, func(k int) {
		var bias float64
		if p.Bias != 0 {
			bias = float64(b[k])
		}
		for t := range tiles {
			img, r := t/(th*tw), t%(th*tw)
			y0, x0 := 2*(r/tw), 2*(r%tw)
			for i := range 2 {
				for j := range 2 {
					if y0+i >= oh || x0+j >= ow {
						continue
					}
					s := bias
					for a := range 4 {
						for c := range 4 {
							s += winogradAT[i][a] * float64(m[((4*a+c)*kk+k)*tiles+t]) * winogradAT[j][c]
						}
					}
					o := float32(s)
					if p.Relu != 0 {
						o = relu(o)
					}
					y[((img*kk+k)*oh+y0+i)*ow+x0+j] = o
				}
			}
		}
	})
}
