package ref

import (
	"fmt"
	"testing"

	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// naiveConv is the convolution formula written with bounds checks in the
// innermost loop, independent of validOut.
func naiveConv(g backend.Conv2DShape, x, w, b []float32) []float64 {
	d := dimsOf(g)
	y := make([]float64, g.YLen())
	for n := range d.n {
		for k := range d.k {
			for oh := range d.oh {
				for ow := range d.ow {
					s := float64(b[k])
					for c := range d.c {
						for r := range d.r {
							for q := range d.s {
								ih, iw := oh*d.sh-d.ph+r, ow*d.sw-d.pw+q
								if ih >= 0 && ih < d.h && iw >= 0 && iw < d.w {
									s += float64(w[((k*d.c+c)*d.r+r)*d.s+q]) * float64(x[((n*d.c+c)*d.h+ih)*d.w+iw])
								}
							}
						}
					}
					y[((n*d.k+k)*d.oh+oh)*d.ow+ow] = s
				}
			}
		}
	}
	return y
}

var convCases = []backend.Conv2DShape{
	backend.NewConv2DShape(2, 3, 7, 6, 4, 3, 3, 1, 0),
	backend.NewConv2DShape(2, 3, 7, 6, 4, 3, 3, 1, 1),
	backend.NewConv2DShape(2, 3, 7, 6, 4, 3, 3, 2, 1),
	backend.NewConv2DShape(1, 2, 9, 11, 3, 5, 3, 2, 2),
	backend.NewConv2DShape(3, 1, 13, 13, 2, 11, 11, 4, 1), // AlexNet conv1 in miniature
	{N: 1, C: 2, H: 5, W: 8, K: 3, R: 2, S: 3, StrideH: 1, StrideW: 3, PadH: 0, PadW: 2, OH: 4, OW: 4},
}

func TestConv2DFwdMatchesFormula(t *testing.T) {
	for ci, g := range convCases {
		t.Run(fmt.Sprint(ci), func(t *testing.T) {
			require.NoError(t, g.Validate())
			r := testutil.NewRNG(uint64(ci))
			x, w, b := testutil.RandSlice(r, g.XLen()), testutil.RandSlice(r, g.WLen()), testutil.RandSlice(r, int(g.K))
			y := testutil.NaNSlice(g.YLen())
			require.NoError(t, Run(backend.Conv2DFwd{Conv2DShape: g}, x, w, b, y))
			testutil.RequireClose(t, y, naiveConv(g, x, w, b), 1e-6, 1e-6, "y")
		})
	}
}

// The backward kernels are checked against central differences of the scalar
// loss L = sum(dy * conv(x, w, b)). L is linear in each argument, so the
// difference quotient is exact up to float32 rounding of y: with h = 1e-2
// that error is below 1e-4 for these sizes; tolerance atol 1e-3, rtol 1e-3.
func TestConv2DBackwardFiniteDifferences(t *testing.T) {
	const h, atol, rtol = 1e-2, 1e-3, 1e-3
	for ci, g := range convCases {
		t.Run(fmt.Sprint(ci), func(t *testing.T) {
			r := testutil.NewRNG(100 + uint64(ci))
			x, w, b := testutil.RandSlice(r, g.XLen()), testutil.RandSlice(r, g.WLen()), testutil.RandSlice(r, int(g.K))
			dy := testutil.RandSlice(r, g.YLen())
			y := make([]float32, g.YLen())
			loss := func() float64 {
				Conv2DFwd(backend.Conv2DFwd{Conv2DShape: g}, x, w, b, y)
				return testutil.Dot64(dy, y)
			}

			dx := testutil.NaNSlice(g.XLen())
			require.NoError(t, Run(backend.Conv2DBwdData{Conv2DShape: g}, dy, w, dx))
			testutil.RequireClose(t, dx, testutil.FiniteDiff(x, h, loss), atol, rtol, "dx")

			dw, db := testutil.NaNSlice(g.WLen()), testutil.NaNSlice(int(g.K))
			require.NoError(t, Run(backend.Conv2DBwdFilter{Conv2DShape: g}, x, dy, dw, db))
			testutil.RequireClose(t, dw, testutil.FiniteDiff(w, h, loss), atol, rtol, "dw")
			testutil.RequireClose(t, db, testutil.FiniteDiff(b, h, loss), atol, rtol, "db")
		})
	}
}
