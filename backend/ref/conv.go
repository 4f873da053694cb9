package ref

import "github.com/crossgrad/crossgrad/backend"

// convDims is Conv2DShape as ints, for indexing.
type convDims struct {
	n, c, h, w, k, r, s, sh, sw, ph, pw, oh, ow int
}

func dimsOf(g backend.Conv2DShape) convDims {
	return convDims{int(g.N), int(g.C), int(g.H), int(g.W), int(g.K), int(g.R), int(g.S),
		int(g.StrideH), int(g.StrideW), int(g.PadH), int(g.PadW), int(g.OH), int(g.OW)}
}

// Conv2DFwd computes y[n][k][oh][ow] = b[k] + sum over c, r, s of
// w[k][c][r][s] * x[n][c][oh*StrideH-PadH+r][ow*StrideW-PadW+s], positions
// outside the input counting as zero, with float64 accumulation.
// x[XLen], w[WLen], b[K] are read; y[YLen] is overwritten. p must be valid and
// the slices at least p.BufferSizes() long (it panics otherwise).
func Conv2DFwd(p backend.Conv2DFwd, x, w, b, y []float32) {
	d := dimsOf(p.Conv2DShape)
	plane, outPlane := d.h*d.w, d.oh*d.ow
	parallelFor(d.n*d.k, func(nk int) {
		n, k := nk/d.k, nk%d.k
		acc := make([]float64, outPlane)
		for i := range acc {
			acc[i] = float64(b[k])
		}
		for c := 0; c < d.c; c++ {
			xp := x[(n*d.c+c)*plane:][:plane]
			for r := 0; r < d.r; r++ {
				ohLo, ohHi := validOut(d.oh, d.h, d.sh, d.ph, r)
				for s := 0; s < d.s; s++ {
					wv := float64(w[((k*d.c+c)*d.r+r)*d.s+s])
					owLo, owHi := validOut(d.ow, d.w, d.sw, d.pw, s)
					for oh := ohLo; oh < ohHi; oh++ {
						xrow := xp[(oh*d.sh-d.ph+r)*d.w:][:d.w]
						arow := acc[oh*d.ow:][:d.ow]
						for ow := owLo; ow < owHi; ow++ {
							arow[ow] += wv * float64(xrow[ow*d.sw-d.pw+s])
						}
					}
				}
			}
		}
		yp := y[nk*outPlane:][:outPlane]
		for i, v := range acc {
			yp[i] = float32(v)
			if p.Relu != 0 {
				yp[i] = relu(yp[i])
			}
		}
	})
}

// Conv2DBwdData computes the input gradient dx = d(sum dy*y)/dx of
// Conv2DFwd: every dy[n][k][oh][ow] * w[k][c][r][s] is added to
// dx[n][c][oh*StrideH-PadH+r][ow*StrideW-PadW+s] when that position is inside
// the input, with float64 accumulation. dy[YLen] and w[WLen] are read;
// dx[XLen] is overwritten. p must be valid and the slices long enough.
// p.MaskRelu is applied by Run, which passes the masked dy.
func Conv2DBwdData(p backend.Conv2DBwdData, dy, w, dx []float32) {
	d := dimsOf(p.Conv2DShape)
	plane, outPlane := d.h*d.w, d.oh*d.ow
	parallelFor(d.n, func(n int) {
		acc := make([]float64, d.c*plane)
		for k := 0; k < d.k; k++ {
			dyp := dy[(n*d.k+k)*outPlane:][:outPlane]
			for c := 0; c < d.c; c++ {
				ap := acc[c*plane:][:plane]
				for r := 0; r < d.r; r++ {
					ohLo, ohHi := validOut(d.oh, d.h, d.sh, d.ph, r)
					for s := 0; s < d.s; s++ {
						wv := float64(w[((k*d.c+c)*d.r+r)*d.s+s])
						owLo, owHi := validOut(d.ow, d.w, d.sw, d.pw, s)
						for oh := ohLo; oh < ohHi; oh++ {
							arow := ap[(oh*d.sh-d.ph+r)*d.w:][:d.w]
							dyrow := dyp[oh*d.ow:][:d.ow]
							for ow := owLo; ow < owHi; ow++ {
								arow[ow*d.sw-d.pw+s] += wv * float64(dyrow[ow])
							}
						}
					}
				}
			}
		}
		dxp := dx[n*d.c*plane:][:d.c*plane]
		for i, v := range acc {
			dxp[i] = float32(v)
		}
	})
}

// Conv2DBwdFilter computes the weight gradient dw[k][c][r][s] = sum over n,
// oh, ow of dy[n][k][oh][ow] * x[n][c][oh*StrideH-PadH+r][ow*StrideW-PadW+s]
// (inside positions only) and the bias gradient db[k] = sum over n, oh, ow
// of dy[n][k][oh][ow], with float64 accumulation. x[XLen] and dy[YLen] are
// read; dw[WLen] and db[K] are overwritten. p must be valid and the slices
// long enough. p.MaskRelu is applied by Run, which passes the masked dy.
func Conv2DBwdFilter(p backend.Conv2DBwdFilter, x, dy, dw, db []float32) {
	d := dimsOf(p.Conv2DShape)
	plane, outPlane := d.h*d.w, d.oh*d.ow
	parallelFor(d.k, func(k int) {
		var bias float64
		for n := 0; n < d.n; n++ {
			for _, v := range dy[(n*d.k+k)*outPlane:][:outPlane] {
				bias += float64(v)
			}
		}
		db[k] = float32(bias)
		for c := 0; c < d.c; c++ {
			for r := 0; r < d.r; r++ {
				ohLo, ohHi := validOut(d.oh, d.h, d.sh, d.ph, r)
				for s := 0; s < d.s; s++ {
					owLo, owHi := validOut(d.ow, d.w, d.sw, d.pw, s)
					var acc float64
					for n := 0; n < d.n; n++ {
						xp := x[(n*d.c+c)*plane:][:plane]
						dyp := dy[(n*d.k+k)*outPlane:][:outPlane]
						for oh := ohLo; oh < ohHi; oh++ {
							xrow := xp[(oh*d.sh-d.ph+r)*d.w:][:d.w]
							dyrow := dyp[oh*d.ow:][:d.ow]
							for ow := owLo; ow < owHi; ow++ {
								acc += float64(dyrow[ow]) * float64(xrow[ow*d.sw-d.pw+s])
							}
						}
					}
					dw[((k*d.c+c)*d.r+r)*d.s+s] = float32(acc)
				}
			}
		}
	})
}
