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

// WinogradInput computes V[ξ][c][t] = (B^T d B)[ξ] for every channel c and
// tile t of p, d the 4x4 window of x at rows 2*th-PadH.. and columns
// 2*tw-PadW.. (zero outside the image), in float64 rounded once. x[N*C*H*W]
// is read; V[16*C*P] is overwritten. p.MaskRelu is applied by Run, which
// passes the masked x.
func WinogradInput(p backend.WinogradInput, x, v []float32) {
	n, c, h, w := int(p.N), int(p.C), int(p.H), int(p.W)
	th, tw := (int(p.OH)+1)/2, (int(p.OW)+1)/2
	tiles := n * th * tw
	parallelFor(c, func(ch int) {
		for t := range tiles {
			img, r := t/(th*tw), t%(th*tw)
			y0, x0 := 2*(r/tw)-int(p.PadH), 2*(r%tw)-int(p.PadW)
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
					v[((4*i+j)*c+ch)*tiles+t] = float32(s)
				}
			}
		}
	})
}

// WinogradFilter computes U[ξ][k][c] = (G g G^T)[ξ] of g = w[k][c], or with
// BwdData U[ξ][c][k] of g[r][s] = w[k][c][2-r][2-s], in float64 rounded
// once. w[K*C*9] is read; U[16*K*C] is overwritten.
func WinogradFilter(p backend.WinogradFilter, w, u []float32) {
	kk, cc := int(p.K), int(p.C)
	parallelFor(kk*cc, func(kc int) {
		k, c := kc/cc, kc%cc
		var g [3][3]float64
		for r := range 3 {
			for s := range 3 {
				if p.BwdData != 0 {
					g[r][s] = float64(w[kc*9+(2-r)*3+(2-s)])
				} else {
					g[r][s] = float64(w[kc*9+r*3+s])
				}
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
				o := ((4*i+j)*kk+k)*cc + c
				if p.BwdData != 0 {
					o = ((4*i+j)*cc+c)*kk + k
				}
				u[o] = float32(s)
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
