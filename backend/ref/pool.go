package ref

import (
	"math"

	"github.com/crossgrad/crossgrad/backend"
)

// MaxPoolFwd computes y[n][c][oh][ow] = max of x[n][c] over the window of
// rows oh*StrideH-PadH .. +KH-1 and columns ow*StrideW-PadW .. +KW-1, padded
// positions counting as -inf, and idx = h*W+w of the FIRST maximum in
// row-major window order, stored as an exact float (a window of -inf values
// gives y = -inf and the first inside position; NaN inputs are outside the
// spec). Validate guarantees every window holds an inside position. x[XLen] is read; y[YLen] and idx[YLen] are overwritten.
// p must be valid and the slices long enough.
func MaxPoolFwd(p backend.MaxPoolFwd, x, y, idx []float32) {
	g := p.Pool2DShape
	h, w, oh, ow := int(g.H), int(g.W), int(g.OH), int(g.OW)
	kh, kw, sh, sw, ph, pw := int(g.KH), int(g.KW), int(g.StrideH), int(g.StrideW), int(g.PadH), int(g.PadW)
	parallelFor(int(g.N)*int(g.C), func(nc int) {
		xp := x[nc*h*w:][:h*w]
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				best, arg := float32(math.Inf(-1)), -1
				for r := 0; r < kh; r++ {
					ih := i*sh - ph + r
					if ih < 0 || ih >= h {
						continue
					}
					for s := 0; s < kw; s++ {
						iw := j*sw - pw + s
						if iw < 0 || iw >= w {
							continue
						}
						if v := xp[ih*w+iw]; arg < 0 || v > best {
							best, arg = v, ih*w+iw
						}
					}
				}
				o := (nc*oh+i)*ow + j
				y[o], idx[o] = best, float32(arg)
			}
		}
	})
}

// MaxPoolBwd routes the output gradient to the argmax positions recorded by
// MaxPoolFwd: dx[n][c][i] = sum of dy[n][c][o] over the outputs o whose
// idx[n][c][o] == i (float64 sum in output order). Indices outside the plane
// are ignored. dy[YLen] and idx[YLen] are read; dx[XLen] is overwritten. p
// must be valid and the slices long enough.
func MaxPoolBwd(p backend.MaxPoolBwd, dy, idx, dx []float32) {
	g := p.Pool2DShape
	plane, outPlane := int(g.H)*int(g.W), int(g.OH)*int(g.OW)
	parallelFor(int(g.N)*int(g.C), func(nc int) {
		acc := make([]float64, plane)
		for o := nc * outPlane; o < (nc+1)*outPlane; o++ {
			if i := idx[o]; i >= 0 && i < float32(plane) && i == float32(int(i)) {
				acc[int(i)] += float64(dy[o])
			}
		}
		dxp := dx[nc*plane:][:plane]
		for i, v := range acc {
			dxp[i] = float32(v)
		}
	})
}
