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
// F(2x2,5x5), the params' K5, is in winograd5.go.
var (
	winogradBT = [][]float64{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}
	winogradG  = [][]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}
	winogradAT = [][]float64{{1, 1, 1, 0}, {0, 1, -1, -1}}
)

// WinogradInput computes V[ξ][q*C+c][t] = (B^T d B)[ξ] for every block q
// of the kernel, channel c and tile t of p, d the a x a window of x at
// rows 2*th-PadH+r*a.. and columns 2*tw-PadW+r*b.. (q = a*BS+b, BS the
// blocks along S; zero outside the image), a x a and r the tile and block
// sides of p's algorithm (4 and 3, or 6 and 5 with K5), in float64 rounded
// once; with F4 the 6x6 windows of F(4x4,3x3) at rows 4*th-PadH.. and
// columns 4*tw-PadW.. x[N*C*H*W] is read; V[Points()*Q*C*P] is overwritten. p.MaskRelu
// is applied by Run, which passes the masked x.
func WinogradInput(p backend.WinogradInput, x, v []float32) {
	alg := algOf(p.K5, p.F4)
	n, c, h, w := int(p.N), int(p.C), int(p.H), int(p.W)
	th, tw := tilesOf(p.OH, p.OW, p.F4)
	tiles, bs, rows := n*th*tw, int(backend.WinogradBlocksAlong(p.S, p.K5)), int(p.Blocks())*c
	parallelFor(rows, func(row int) {
		q, ch := row/c, row%c
		d, out := square(alg.a), square(alg.a)
		for t := range tiles {
			img, r := t/(th*tw), t%(th*tw)
			y0, x0 := alg.m*(r/tw)-int(p.PadH)+alg.r*(q/bs), alg.m*(r%tw)-int(p.PadW)+alg.r*(q%bs)
			for a := range alg.a {
				for b := range alg.a {
					d[a][b] = 0
					if y, xx := y0+a, x0+b; y >= 0 && y < h && xx >= 0 && xx < w {
						d[a][b] = float64(x[((img*c+ch)*h+y)*w+xx])
					}
				}
			}
			sandwich(out, alg.bt, d, alg.bt)
			for i := range alg.a {
				for j := range alg.a {
					v[((alg.a*i+j)*rows+row)*tiles+t] = float32(out[i][j])
				}
			}
		}
	})
}

// WinogradFilter computes U[ξ][k][q*C+c] = (G g G^T)[ξ] of block q =
// a*BS+b, g[r][s] = w[k][c][rb*a+r][rb*b+s] (rb the block side: 3, or 5
// with K5; F4's G for 3x3), or with BwdData U[ξ][c][q*K+k] of g[r][s] =
// w[k][c][R-1-rb*a-r][S-1-rb*b-s] (zero past the kernel), in float64
// rounded once. w[K*C*R*S] is read; U[Points()*Q*K*C] is overwritten.
func WinogradFilter(p backend.WinogradFilter, w, u []float32) {
	alg := algOf(p.K5, p.F4)
	kk, cc, rr, ss := int(p.K), int(p.C), int(p.R), int(p.S)
	qq, bs := int(p.Blocks()), int(backend.WinogradBlocksAlong(p.S, p.K5))
	parallelFor(kk*cc, func(kc int) {
		k, c := kc/cc, kc%cc
		g, out := square(alg.r), square(alg.a)
		for q := range qq {
			for r := range alg.r {
				for s := range alg.r {
					g[r][s] = 0
					kr, ks := alg.r*(q/bs)+r, alg.r*(q%bs)+s
					if kr >= rr || ks >= ss {
						continue
					}
					if p.BwdData != 0 {
						kr, ks = rr-1-kr, ss-1-ks
					}
					g[r][s] = float64(w[(kc*rr+kr)*ss+ks])
				}
			}
			sandwich(out, alg.g, g, alg.g)
			for i := range alg.a {
				for j := range alg.a {
					o := ((alg.a*i+j)*kk+k)*qq*cc + q*cc + c
					if p.BwdData != 0 {
						o = ((alg.a*i+j)*cc+c)*qq*kk + q*kk + k
					}
					u[o] = float32(out[i][j])
				}
			}
		}
	})
}

// WinogradOutput computes, for every channel k and tile t, the 2x2 tile
// (4x4 with F4) A^T m A of m = M[.][k][t] plus b[k] when Bias != 0, in
// float64 rounded once (then clamped as ReluFwd when Relu != 0), into
// y[n][k] at rows 2*th.. and columns 2*tw.. (4*th.., 4*tw..) inside OH x
// OW.
// M[Points()*K*P] and b are read; y[N*K*OH*OW] is overwritten.
func WinogradOutput(p backend.WinogradOutput, m, b, y []float32) {
	alg := algOf(p.K5, p.F4)
	kk, oh, ow := int(p.K), int(p.OH), int(p.OW)
	th, tw := tilesOf(p.OH, p.OW, p.F4)
	tiles := int(p.N) * th * tw
	parallelFor(kk, func(k int) {
		var bias float64
		if p.Bias != 0 {
			bias = float64(b[k])
		}
		mt, out := square(alg.a), square(alg.m)
		for t := range tiles {
			img, r := t/(th*tw), t%(th*tw)
			y0, x0 := alg.m*(r/tw), alg.m*(r%tw)
			for a := range alg.a {
				for c := range alg.a {
					mt[a][c] = float64(m[((alg.a*a+c)*kk+k)*tiles+t])
				}
			}
			sandwich(out, alg.at, mt, alg.at)
			for i := range alg.m {
				for j := range alg.m {
					if y0+i >= oh || x0+j >= ow {
						continue
					}
					o := float32(bias + out[i][j])
					if p.Relu != 0 {
						o = relu(o)
					}
					y[((img*kk+k)*oh+y0+i)*ow+x0+j] = o
				}
			}
		}
	})
}

// square is an n x n matrix of zeros.
func square(n int) [][]float64 {
	m := make([][]float64, n)
	for i := range m {
		m[i] = make([]float64, n)
	}
	return m
}
