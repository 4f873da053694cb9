package ref_test

import (
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/crossgrad/crossgrad/backend/backendtest"
)

// winogradAlgo is F(m x m, r x r) by its transform matrices: bt is a x a,
// g a x r, at m x a, a = m+r-1.
type winogradAlgo struct {
	name      string
	m, r      int
	bt, g, at [][]float64
}

// f2x2 and f4x4 are Lavin and Gray's F(2x2,3x3) and F(4x4,3x3) (the
// latter with interpolation points 0, ±1, ±2, ∞).
var (
	f2x2 = winogradAlgo{"F(2x2,3x3)", 2, 3,
		[][]float64{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
		[][]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}},
		[][]float64{{1, 1, 1, 0}, {0, 1, -1, -1}}}
	f4x4 = winogradAlgo{"F(4x4,3x3)", 4, 3,
		[][]float64{{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
			{0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}},
		[][]float64{{1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
			{1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}},
		[][]float64{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}}}
	// f2x2r5 is F(2x2,5x5) with the same points, as backend/ref states it
	// (winograd5.go) and the backends run it for 5x5 layers.
	f2x2r5 = winogradAlgo{"F(2x2,5x5)", 2, 5, f4x4.bt,
		[][]float64{{1.0 / 4, 0, 0, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6},
			{-1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6}, {1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3, 2.0 / 3},
			{1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3, 2.0 / 3}, {0, 0, 0, 0, 1}},
		[][]float64{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 1}}}
)

// accLayer is one stride-1 layer of an r x r kernel (3 when r is 0),
// padded by r/2 on every side: c input and k output channels on n images
// of h x h.
type accLayer struct {
	name       string
	n, c, k, h int
	r          int
}

// side is the kernel side r.
func (l accLayer) side() int { return max(l.r, 3) }

// conv64 is the direct convolution in float64.
func conv64(l accLayer, x, w []float32) []float64 {
	rs := l.side()
	y := make([]float64, l.n*l.k*l.h*l.h)
	for n := range l.n {
		for k := range l.k {
			for oy := range l.h {
				for ox := range l.h {
					var s float64
					for c := range l.c {
						for r := range rs {
							for q := range rs {
								iy, ix := oy+r-rs/2, ox+q-rs/2
								if iy >= 0 && iy < l.h && ix >= 0 && ix < l.h {
									s += float64(w[((k*l.c+c)*rs+r)*rs+q]) * float64(x[((n*l.c+c)*l.h+iy)*l.h+ix])
								}
							}
						}
					}
					y[((n*l.k+k)*l.h+oy)*l.h+ox] = s
				}
			}
		}
	}
	return y
}

// conv32 is the direct convolution summed in float32 in (c, r, s) order.
func conv32(l accLayer, x, w []float32) []float64 {
	rs := l.side()
	y := make([]float64, l.n*l.k*l.h*l.h)
	for n := range l.n {
		for k := range l.k {
			for oy := range l.h {
				for ox := range l.h {
					var s float32
					for c := range l.c {
						for r := range rs {
							for q := range rs {
								iy, ix := oy+r-rs/2, ox+q-rs/2
								if iy >= 0 && iy < l.h && ix >= 0 && ix < l.h {
									s += w[((k*l.c+c)*rs+r)*rs+q] * x[((n*l.c+c)*l.h+iy)*l.h+ix]
								}
							}
						}
					}
					y[((n*l.k+k)*l.h+oy)*l.h+ox] = float64(s)
				}
			}
		}
	}
	return y
}

// sandwich32 is L * X * R^T in float32 (L: p x q, X: q x q', R: p' x q').
func sandwich32(lm [][]float64, x [][]float32, rm [][]float64) [][]float32 {
	t := make([][]float32, len(lm))
	for i := range lm {
		t[i] = make([]float32, len(x[0]))
		for j := range x[0] {
			var s float32
			for a := range x {
				s += float32(lm[i][a]) * x[a][j]
			}
			t[i][j] = s
		}
	}
	out := make([][]float32, len(lm))
	for i := range t {
		out[i] = make([]float32, len(rm))
		for j := range rm {
			var s float32
			for b := range t[i] {
				s += t[i][b] * float32(rm[j][b])
			}
			out[i][j] = s
		}
	}
	return out
}

// winograd32 is the convolution by algorithm f, every step in float32:
// the filter and input transforms, the products summed over channels in
// channel order, the output transform.
func winograd32(f winogradAlgo, l accLayer, x, w []float32) []float64 {
	a, m, rs := f.m+f.r-1, f.m, f.r
	tiles := (l.h + m - 1) / m
	u := make([][][]float32, l.k*l.c)
	for kc := range u {
		g := make([][]float32, rs)
		for r := range g {
			g[r] = w[(kc*rs+r)*rs:][:rs]
		}
		u[kc] = sandwich32(f.g, g, f.g)
	}
	y := make([]float64, l.n*l.k*l.h*l.h)
	for n := range l.n {
		for ty := range tiles {
			for tx := range tiles {
				v := make([][][]float32, l.c)
				for c := range l.c {
					d := make([][]float32, a)
					for i := range d {
						d[i] = make([]float32, a)
						for j := range d[i] {
							iy, ix := ty*m+i-rs/2, tx*m+j-rs/2
							if iy >= 0 && iy < l.h && ix >= 0 && ix < l.h {
								d[i][j] = x[((n*l.c+c)*l.h+iy)*l.h+ix]
							}
						}
					}
					v[c] = sandwich32(f.bt, d, f.bt)
				}
				for k := range l.k {
					prod := make([][]float32, a)
					for i := range prod {
						prod[i] = make([]float32, a)
						for j := range prod[i] {
							var s float32
							for c := range l.c {
								s += u[k*l.c+c][i][j] * v[c][i][j]
							}
							prod[i][j] = s
						}
					}
					out := sandwich32(f.at, prod, f.at)
					for i := range m {
						for j := range m {
							if oy, ox := ty*m+i, tx*m+j; oy < l.h && ox < l.h {
								y[((n*l.k+k)*l.h+oy)*l.h+ox] = float64(out[i][j])
							}
						}
					}
				}
			}
		}
	}
	return y
}

// TestWinogradAccuracy measures, at AlexNet's 3x3 layers' reduction
// lengths (conv.6's 256 input channels, conv.8's and conv.10's 384; the
// input gradients reduce over 384, 384 and 256 output channels) and its
// 5x5 layer's (conv.3: 96 input channels forward, 256 output channels for
// the input gradient), the error of a direct float32 convolution and of
// the Winograd algorithms against float64 on the suite's inputs: max |err|
// over the RMS of the output (the max relative error of the layer) and the
// worst share of backendtest.WinogradTolerance (scaled by the reduction
// length as the pipeline checks scale it). The algorithms the backends
// run, F(2x2,3x3) for 3x3 and F(2x2,5x5) for 5x5, must stay within the
// tolerance, and F(2x2,3x3) below F(4x4,3x3), whose larger error (the
// same six points as F(2x2,5x5), for a quarter of the products' work per
// output) is why the backends take F(2x2) for 3x3.
func TestWinogradAccuracy(t *testing.T) {
	layers := []struct {
		l    accLayer
		algs []winogradAlgo
	}{
		{accLayer{"conv.6 fwd, conv.10 bwd_data (256x9 terms)", 2, 256, 16, 12, 3}, []winogradAlgo{f2x2, f4x4}},
		{accLayer{"conv.8, conv.10 fwd, conv.6, conv.8 bwd_data (384x9 terms)", 2, 384, 16, 12, 3}, []winogradAlgo{f2x2, f4x4}},
		{accLayer{"conv.3 fwd (96x25 terms)", 2, 96, 16, 13, 5}, []winogradAlgo{f2x2r5}},
		{accLayer{"conv.3 bwd_data (256x25 terms)", 1, 256, 16, 13, 5}, []winogradAlgo{f2x2r5}},
	}
	for _, c := range layers {
		l, terms := c.l, c.l.side()*c.l.side()*c.l.c
		r := rand.New(rand.NewSource(int64(terms)))
		x := backendtest.Symmetric(1)(r, l.n*l.c*l.h*l.h)
		w := backendtest.FanIn(terms)(r, l.k*terms)
		want := conv64(l, x, w)
		var rms float64
		for _, v := range want {
			rms += v * v
		}
		rms = math.Sqrt(rms / float64(len(want)))
		tol := backendtest.WinogradTolerance
		if terms > backendtest.ToleranceUnit {
			tol.Atol *= math.Sqrt(float64(terms) / backendtest.ToleranceUnit)
		}
		errs := map[string]float64{}
		measure := func(name string, y []float64) float64 {
			var worst, share float64
			for i, v := range y {
				d := math.Abs(v - want[i])
				worst = max(worst, d)
				share = max(share, d/tol.Allowed(want[i]))
			}
			errs[name] = worst / rms
			t.Logf("%s: %-14s max |err| %.3g, max relative error %.3g (of the RMS %.3g), %.3f of the tolerance",
				l.name, name, worst, worst/rms, rms, share)
			return share
		}
		measure("direct float32", conv32(l, x, w))
		for i, f := range c.algs {
			share := measure(f.name, winograd32(f, l, x, w))
			if i == 0 || f.name == f4x4.name {
				assert.LessOrEqual(t, share, 1.0, "%s: %s beyond backendtest.WinogradTolerance", l.name, f.name)
			}
		}
		if len(c.algs) > 1 {
			assert.Less(t, errs[f2x2.name], errs[f4x4.name], "%s: F(2x2,3x3) is the more accurate", l.name)
		}
	}
}

// gradAlgo is a filter-gradient algorithm F(r x r, 2x2) by its matrices,
// with the backends' scaling: bt is a x a, g (G') a x 2, at (A'^T) r x a,
// a = r+1; E[sum] holds scale times the sum of a tile of dy.
type gradAlgo struct {
	name      string
	a, r      int
	bt, g, at [][]float64
	sum       int
	scale     float64
}

// f3x3Grad is F(3x3,2x2): G' twice the textbook matrix, A'^T half of it,
// and F(2x2,3x3)'s B^T. f5x5Grad is F(5x5,2x2) with F(2x2,5x5)'s B^T, G'
// 24 times the matrix that pairs with it and A'^T / 24 (backend/ref,
// winograd5.go).
var (
	f3x3Grad = gradAlgo{"F(3x3,2x2)", 4, 3, f2x2.bt,
		[][]float64{{2, 0}, {1, 1}, {1, -1}, {0, 2}},
		[][]float64{{0.5, 0.5, 0.5, 0}, {0, 0.5, -0.5, 0}, {0, 0.5, 0.5, -0.5}}, 5, 1}
	f5x5Grad = gradAlgo{"F(5x5,2x2)", 6, 5, f2x2r5.bt,
		[][]float64{{6, 0}, {-4, -4}, {-4, 4}, {1, 2}, {1, -2}, {0, 24}},
		[][]float64{{1.0 / 24, 1.0 / 24, 1.0 / 24, 1.0 / 24, 1.0 / 24, 0},
			{0, 1.0 / 24, -1.0 / 24, 2.0 / 24, -2.0 / 24, 0}, {0, 1.0 / 24, 1.0 / 24, 4.0 / 24, 4.0 / 24, 0},
			{0, 1.0 / 24, -1.0 / 24, 8.0 / 24, -8.0 / 24, 0}, {0, 1.0 / 24, 1.0 / 24, 16.0 / 24, 16.0 / 24, 1.0 / 24}}, 7, 16}
)

// bwdFilter is the direct filter and bias gradient of layer l, summed
// over (n, oh, ow) in that order in float64, or in float32 when single.
func bwdFilter(l accLayer, x, dy []float32, single bool) (dw, db []float64) {
	hw, rs := l.h*l.h, l.side()
	dw, db = make([]float64, l.k*l.c*rs*rs), make([]float64, l.k)
	sum := func(term func(n, oy, ox int) (float32, bool)) float64 {
		var s64 float64
		var s32 float32
		for n := range l.n {
			for oy := range l.h {
				for ox := range l.h {
					if v, ok := term(n, oy, ox); ok {
						s64 += float64(v)
						s32 += v
					}
				}
			}
		}
		if single {
			return float64(s32)
		}
		return s64
	}
	for k := range l.k {
		db[k] = sum(func(n, oy, ox int) (float32, bool) { return dy[(n*l.k+k)*hw+oy*l.h+ox], true })
		for c := range l.c {
			for r := range rs {
				for q := range rs {
					dw[((k*l.c+c)*rs+r)*rs+q] = sum(func(n, oy, ox int) (float32, bool) {
						iy, ix := oy+r-rs/2, ox+q-rs/2
						if iy < 0 || iy >= l.h || ix < 0 || ix >= l.h {
							return 0, false
						}
						// A float32 product of float32 values is exact in float64.
						return dy[(n*l.k+k)*hw+oy*l.h+ox] * x[(n*l.c+c)*hw+iy*l.h+ix], true
					})
				}
			}
		}
	}
	return dw, db
}

// winogradGrad32 is the filter and bias gradient of layer l by f, every
// step in float32: the input and dy transforms, the products summed over
// the tiles in tile order, the output transform, and db summed from
// E[f.sum] in tile order, divided by f.scale.
func winogradGrad32(f gradAlgo, l accLayer, x, dy []float32) (dw, db []float64) {
	tiles, pa, rs := (l.h+1)/2, f.a, f.r
	p := l.n * tiles * tiles
	v := make([][]float32, l.c*p) // v[c*p+t][ξ]
	e := make([][]float32, l.k*p) // e[k*p+t][ξ]
	for n := range l.n {
		for ty := range tiles {
			for tx := range tiles {
				t := (n*tiles+ty)*tiles + tx
				tile := func(src []float32, ch, side, off int) [][]float32 {
					d := make([][]float32, side)
					for i := range d {
						d[i] = make([]float32, side)
						for j := range d[i] {
							if iy, ix := 2*ty+i-off, 2*tx+j-off; iy >= 0 && iy < l.h && ix >= 0 && ix < l.h {
								d[i][j] = src[(ch*l.h+iy)*l.h+ix]
							}
						}
					}
					return d
				}
				for c := range l.c {
					v[c*p+t] = flatten(sandwich32(f.bt, tile(x, n*l.c+c, pa, rs/2), f.bt))
				}
				for k := range l.k {
					e[k*p+t] = flatten(sandwich32(f.g, tile(dy, n*l.k+k, 2, 0), f.g))
				}
			}
		}
	}
	dw, db = make([]float64, l.k*l.c*rs*rs), make([]float64, l.k)
	for k := range l.k {
		var s float32
		for t := range p {
			s += e[k*p+t][f.sum]
		}
		db[k] = float64(s / float32(f.scale))
		for c := range l.c {
			m := make([][]float32, pa)
			for i := range m {
				m[i] = make([]float32, pa)
				for j := range m[i] {
					var s float32
					for t := range p {
						s += v[c*p+t][pa*i+j] * e[k*p+t][pa*i+j]
					}
					m[i][j] = s
				}
			}
			out := sandwich32(f.at, m, f.at)
			for r := range rs {
				for q := range rs {
					dw[((k*l.c+c)*rs+r)*rs+q] = float64(out[r][q])
				}
			}
		}
	}
	return dw, db
}

// flatten is the square tile m as one slice, element (i, j) at
// len(m)*i+j.
func flatten(m [][]float32) []float32 {
	out := make([]float32, 0, len(m)*len(m))
	for _, row := range m {
		out = append(out, row...)
	}
	return out
}

// TestWinogradGradAccuracy measures, at the filter gradient's reduction
// length of AlexNet's 3x3 layers (conv.6, conv.8 and conv.10 at batch 16
// reduce over 16 x 12x12 = 2304 pixels, P = 576 tiles) and of its 5x5
// layer (conv.3 at batch 4: 4 x 26x26 = 2704 pixels; the channel counts
// do not change the reduction, so fewer channels keep the test fast), the
// error of a direct float32 sum and of F(3x3,2x2) or F(5x5,2x2) in
// float32 against float64 on the suite's inputs (x uniform in ±1, dy
// scaled by 1/sqrt(pixels)): max |err| over the RMS of dw, and the worst
// share of backendtest.WinogradGradTolerance over dw and db, which the
// Winograd algorithm must stay within, at no more than twice (F(3x3,2x2))
// or 20 times (F(5x5,2x2), whose transforms weigh by up to 24 on either
// side; measured 16x: 9.1e-5 against 5.6e-6, 9% of the tolerance) the
// direct sum's relative error.
func TestWinogradGradAccuracy(t *testing.T) {
	for _, c := range []struct {
		l     accLayer
		f     gradAlgo
		bound float64
	}{
		{accLayer{"conv.6, conv.8, conv.10 bwd_filter (2304 terms)", 16, 48, 40, 12, 3}, f3x3Grad, 2},
		{accLayer{"conv.3 bwd_filter (2704 terms)", 4, 12, 16, 26, 5}, f5x5Grad, 20},
	} {
		l, pixels := c.l, c.l.n*c.l.h*c.l.h
		r := rand.New(rand.NewSource(int64(pixels)))
		x := backendtest.Symmetric(1)(r, l.n*l.c*l.h*l.h)
		dy := backendtest.FanIn(pixels)(r, l.n*l.k*l.h*l.h)
		wantW, wantB := bwdFilter(l, x, dy, false)
		var rms float64
		for _, v := range wantW {
			rms += v * v
		}
		rms = math.Sqrt(rms / float64(len(wantW)))
		tol := backendtest.WinogradGradTolerance
		tol.Atol *= math.Sqrt(float64(pixels) / backendtest.ToleranceUnit)
		dw32, db32 := bwdFilter(l, x, dy, true)
		dwW, dbW := winogradGrad32(c.f, l, x, dy)
		rel := map[string]float64{}
		for _, m := range []struct {
			name   string
			dw, db []float64
		}{{"direct float32", dw32, db32}, {c.f.name, dwW, dbW}} {
			var worstW, worstB, share float64
			for i, v := range m.dw {
				d := math.Abs(v - wantW[i])
				worstW = max(worstW, d)
				share = max(share, d/tol.Allowed(wantW[i]))
			}
			for i, v := range m.db {
				d := math.Abs(v - wantB[i])
				worstB = max(worstB, d)
				share = max(share, d/tol.Allowed(wantB[i]))
			}
			rel[m.name] = worstW / rms
			t.Logf("%s: %-14s dw max |err| %.3g, max relative error %.3g (of the RMS %.3g); db max |err| %.3g; %.4f of the tolerance",
				l.name, m.name, worstW, worstW/rms, rms, worstB, share)
			if m.name == c.f.name {
				assert.LessOrEqual(t, share, 1.0, "%s beyond backendtest.WinogradGradTolerance", c.f.name)
			}
		}
		assert.Positive(t, rel[c.f.name], "float32 rounding shows somewhere")
		assert.LessOrEqual(t, rel[c.f.name], c.bound*rel["direct float32"], "%s: within %gx a direct sum's error", c.f.name, c.bound)
	}
}
