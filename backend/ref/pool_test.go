package ref

import (
	"fmt"
	"math"
	"testing"

	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

var poolCases = []backend.Pool2DShape{
	backend.NewPool2DShape(2, 3, 7, 7, 3, 2, 0), // AlexNet's MaxPool2d(3, 2)
	backend.NewPool2DShape(1, 2, 9, 8, 3, 2, 1),
	backend.NewPool2DShape(2, 1, 5, 6, 2, 2, 0),
	backend.NewPool2DShape(1, 3, 6, 5, 3, 1, 1), // overlapping windows: dx sums
}

// distinctValues returns n distinct multiples of 0.01 in random order, so
// no window has ties and a perturbation of 1e-3 keeps every argmax.
func distinctValues(seed uint64, n int) []float32 {
	r := testutil.NewRNG(seed)
	out := make([]float32, n)
	for i, j := range r.Perm(n) {
		out[i] = float32(j-n/2) * 0.01
	}
	return out
}

func TestMaxPoolFwdMatchesFormula(t *testing.T) {
	for ci, g := range poolCases {
		t.Run(fmt.Sprint(ci), func(t *testing.T) {
			require.NoError(t, g.Validate())
			x := distinctValues(uint64(ci), g.XLen())
			y, idx := testutil.NaNSlice(g.YLen()), testutil.NaNSlice(g.YLen())
			require.NoError(t, Run(backend.MaxPoolFwd{Pool2DShape: g}, x, y, idx))
			h, w, oh, ow := int(g.H), int(g.W), int(g.OH), int(g.OW)
			for nc := range int(g.N * g.C) {
				for i := range oh {
					for j := range ow {
						best, arg := math.Inf(-1), -1
						for r := range int(g.KH) {
							for s := range int(g.KW) {
								ih, iw := i*int(g.StrideH)-int(g.PadH)+r, j*int(g.StrideW)-int(g.PadW)+s
								if ih >= 0 && ih < h && iw >= 0 && iw < w && float64(x[nc*h*w+ih*w+iw]) > best {
									best, arg = float64(x[nc*h*w+ih*w+iw]), ih*w+iw
								}
							}
						}
						o := (nc*oh+i)*ow + j
						require.Equal(t, float32(best), y[o])
						require.Equal(t, float32(arg), idx[o])
					}
				}
			}
		})
	}
}

// L = sum(dy * maxpool(x)) is piecewise linear; with distinct inputs 0.01
// apart and h = 1e-3 the argmax never changes, so the difference quotient
// is exact up to float32 rounding (tolerance 1e-3).
func TestMaxPoolBwdFiniteDifferences(t *testing.T) {
	for ci, g := range poolCases {
		t.Run(fmt.Sprint(ci), func(t *testing.T) {
			x := distinctValues(50+uint64(ci), g.XLen())
			dy := testutil.RandSlice(testutil.NewRNG(uint64(ci)), g.YLen())
			y, idx := make([]float32, g.YLen()), make([]float32, g.YLen())
			loss := func() float64 {
				MaxPoolFwd(backend.MaxPoolFwd{Pool2DShape: g}, x, y, idx)
				return testutil.Dot64(dy, y)
			}
			loss() // idx of the unperturbed x
			dx := testutil.NaNSlice(g.XLen())
			require.NoError(t, Run(backend.MaxPoolBwd{Pool2DShape: g}, dy, idx, dx))
			testutil.RequireClose(t, dx, testutil.FiniteDiff(x, 1e-3, loss), 1e-3, 1e-3, "dx")
		})
	}
}

func TestMaxPoolTiesChooseFirst(t *testing.T) {
	g := backend.NewPool2DShape(1, 1, 4, 4, 3, 1, 1)
	x := make([]float32, 16) // all equal: every window picks its first inside position
	y, idx := testutil.NaNSlice(g.YLen()), testutil.NaNSlice(g.YLen())
	require.NoError(t, Run(backend.MaxPoolFwd{Pool2DShape: g}, x, y, idx))
	for i := range 4 {
		for j := range 4 {
			want := max(i-1, 0)*4 + max(j-1, 0)
			assert.Equal(t, float32(want), idx[i*4+j], "window (%d,%d)", i, j)
			assert.Equal(t, float32(0), y[i*4+j])
		}
	}
	// A later equal maximum does not replace the first one; -inf padding never wins.
	x = []float32{-5, 2, 2, -5, -7, -9, -3, 2, -8, -7, -5, -6, -9, -1, -9, -2}
	require.NoError(t, Run(backend.MaxPoolFwd{Pool2DShape: g}, x, y, idx))
	assert.Equal(t, []float32{2, 2, 2, 2, 2, 2, 2, 2, -1, -1, 2, 2, -1, -1, -1, -2}, y)
	assert.Equal(t, []float32{1, 1, 1, 2, 1, 1, 1, 2, 13, 13, 7, 7, 13, 13, 13, 15}, idx)

	dy := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	dx := testutil.NaNSlice(16)
	require.NoError(t, Run(backend.MaxPoolBwd{Pool2DShape: g}, dy, idx, dx))
	assert.Equal(t, []float32{0, 6, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 5, 0, 1}, dx)
}
