package ref_test

import (
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/crossgrad/crossgrad/backend/backendtest"
)

// winogradAlgo is F(m x m, 3x3) by its transform matrices: bt is a x a,
// g a x 3, at m x a, a = m+2.
type winogradAlgo struct {
	name      string
	m         int
	bt, g, at [][]float64
}

// f2x2 and f4x4 are Lavin and Gray's F(2x2,3x3) and F(4x4,3x3) (the
// latter with interpolation points 0, ±1, ±2, ∞).
var (
	f2x2 = winogradAlgo{"F(2x2,3x3)", 2,
		[][]float64{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
		[][]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}},
		[][]float64{{1, 1, 1, 0}, {0, 1, -1, -1}}}
	f4x4 = winogradAlgo{"F(4x4,3x3)", 4,
		[][]float64{{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
			{0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}},
		[][]float64{{1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
			{1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}},
		[][]float64{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}}}
)

// accLayer is one 3x3 stride-1 pad-1 layer: c input and k output
// channels on n images of h x h.
type accLayer struct {
	name       string
	n, c, k, h int
}

// conv64 is the direct convolution in float64.
func conv64(l accLayer, x, w []float32) []float64 {
	y := make([]float64, l.n*l.k*l.h*l.h)
	for n := range l.n {
		for k := range l.k {
			for oy := range l.h {
				for ox := range l.h {
					var s float64
					for c := range l.c {
						for r := range 3 {
							for q := range 3 {
								iy, ix := oy+r-1, ox+q-1
								if iy >= 0 && iy < l.h && ix >= 0 && ix < l.h {
									s += float64(w[((k*l.c+c)*3+r)*3+q]) * float64(x[((n*l.c+c)*l.h+iy)*l.h+ix])
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
	y := make([]float64, l.n*l.k*l.h*l.h)
	for n := range l.n {
		for k := range l.k {
			for oy := range l.h {
				for ox := range l.h {
					var s float32
					for c := range l.c {
						for r := range 3 {
							for q := range 3 {
								iy, ix := oy+r-1, ox+q-1
								if iy >= 0 && iy < l.h && ix >= 0 && ix < l.h {
									s += w[((k*l.c+c)*3+r)*3+q] * x[((n*l.c+c)*l.h+iy)*l.h+ix]
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
	a, m := f.m+2, f.m
	tiles := (l.h + m - 1) / m
	u := make([][][]float32, l.k*l.c)
	for kc := range u {
		g := make([][]float32, 3)
		for r := range g {
			g[r] = w[kc*9+r*3:][:3]
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
							iy, ix := ty*m+i-1, tx*m+j-1
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
// input gradients reduce over 384, 384 and 256 output channels), the
// error of a direct float32 convolution, F(2x2,3x3) and F(4x4,3x3)
// against float64 on the suite's inputs: max |err| over the RMS of the
// output (the max relative error of the layer) and the worst share of
// backendtest.WinogradTolerance. F(2x2) must stay within the tolerance and
// below F(4x4), whose error is why the backends implement F(2x2).
func TestWinogradAccuracy(t *testing.T) {
	layers := []accLayer{{"conv.6 fwd, conv.10 bwd_data (256 terms)", 2, 256, 16, 12},
		{"conv.8, conv.10 fwd, conv.6, conv.8 bwd_data (384 terms)", 2, 384, 16, 12}}
	for _, l := range layers {
		r := rand.New(rand.NewSource(int64(l.c)))
		x := backendtest.Symmetric(1)(r, l.n*l.c*l.h*l.h)
		w := backendtest.FanIn(9*l.c)(r, l.k*l.c*9)
		want := conv64(l, x, w)
		var rms float64
		for _, v := range want {
			rms += v * v
		}
		rms = math.Sqrt(rms / float64(len(want)))
		tol := backendtest.WinogradTolerance
		if n := 9 * l.c; n > backendtest.ToleranceUnit {
			tol.Atol *= math.Sqrt(float64(n) / backendtest.ToleranceUnit)
		}
		errs := map[string]float64{}
		for _, m := range []struct {
			name string
			y    []float64
		}{{"direct float32", conv32(l, x, w)}, {f2x2.name, winograd32(f2x2, l, x, w)}, {f4x4.name, winograd32(f4x4, l, x, w)}} {
			var worst, share float64
			for i, v := range m.y {
				d := math.Abs(v - want[i])
				worst = max(worst, d)
				share = max(share, d/tol.Allowed(want[i]))
			}
			errs[m.name] = worst / rms
			t.Logf("%s: %-14s max |err| %.3g, max relative error %.3g (of the RMS %.3g), %.3f of the tolerance",
				l.name, m.name, worst, worst/rms, rms, share)
			if m.name == f2x2.name {
				assert.LessOrEqual(t, share, 1.0, "%s: F(2x2,3x3) beyond backendtest.WinogradTolerance", l.name)
			}
		}
		assert.Less(t, errs[f2x2.name], errs[f4x4.name], "%s: F(2x2,3x3) is the more accurate", l.name)
	}
}
