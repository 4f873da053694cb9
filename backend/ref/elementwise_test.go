package ref

import (
	"math"
	"testing"

	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// awayFromZero returns n random values with |v| in [0.05, 1), so a
// perturbation of 1e-2 never crosses relu's kink.
func awayFromZero(seed uint64, n int) []float32 {
	r := testutil.NewRNG(seed)
	out := make([]float32, n)
	for i := range out {
		v := float32(0.05 + 0.95*r.Float64())
		if r.IntN(2) == 0 {
			v = -v
		}
		out[i] = v
	}
	return out
}

func TestReluFwdBwd(t *testing.T) {
	const n = 101
	x := awayFromZero(1, n)
	x[3], x[4] = 0, float32(math.Copysign(0, -1))
	y := testutil.NaNSlice(n)
	require.NoError(t, Run(backend.ReluFwd{N: n}, x, y))
	for i, v := range x {
		require.Equal(t, float32(max(float64(v), 0)), y[i])
	}
	// In place.
	xc := append([]float32(nil), x...)
	require.NoError(t, Run(backend.ReluFwd{N: n}, xc, xc))
	assert.Equal(t, y, xc)

	x = awayFromZero(2, n)
	dy := testutil.RandSlice(testutil.NewRNG(3), n)
	loss := func() float64 {
		ReluFwd(backend.ReluFwd{N: n}, x, y)
		return testutil.Dot64(dy, y)
	}
	loss()
	dx := testutil.NaNSlice(n)
	require.NoError(t, Run(backend.ReluBwd{N: n}, y, dy, dx))
	testutil.RequireClose(t, dx, testutil.FiniteDiff(x, 1e-2, loss), 1e-4, 1e-4, "dx")
	// dx may be dy.
	require.NoError(t, Run(backend.ReluBwd{N: n}, y, dy, dy))
	assert.Equal(t, dx, dy)
}

func TestDropoutBwdFiniteDifferences(t *testing.T) {
	const n = 257
	p := float32(0.3)
	fwd := backend.DropoutFwd{N: n, Seed: 99, Step: 3, P: p, Scale: backend.DropoutScale(p)}
	x, dy := testutil.RandSlice(testutil.NewRNG(4), n), testutil.RandSlice(testutil.NewRNG(5), n)
	y := make([]float32, n)
	loss := func() float64 {
		DropoutFwd(fwd, x, y)
		return testutil.Dot64(dy, y)
	}
	dx := testutil.NaNSlice(n)
	require.NoError(t, Run(backend.DropoutBwd(fwd), dy, dx))
	// y is linear in x: the quotient is exact up to rounding (tolerance 1e-4).
	testutil.RequireClose(t, dx, testutil.FiniteDiff(x, 1e-2, loss), 1e-4, 1e-4, "dx")
	kept := 0
	for i := range dx {
		if dx[i] != 0 {
			kept++
			require.Equal(t, dy[i]*fwd.Scale, dx[i])
		}
	}
	assert.InDelta(t, 0.7*n, kept, 40)
	// p = 1 drops everything (Scale 0), p = 0 is the identity.
	y = testutil.NaNSlice(n)
	require.NoError(t, Run(backend.DropoutFwd{N: n, Seed: 1, P: 1, Scale: backend.DropoutScale(1)}, x, y))
	assert.Equal(t, make([]float32, n), y)
	require.NoError(t, Run(backend.DropoutFwd{N: n, Seed: 1, P: 0, Scale: 1}, x, y))
	assert.Equal(t, x, y)
}

// L = sum(dy * (y0 + b broadcast over rows)) has gradient colsum(dy) = BiasGrad.
func TestBiasGradIsGradientOfBiasAdd(t *testing.T) {
	const rows, cols = 7, 5
	y0, b, dy := testutil.RandSlice(testutil.NewRNG(6), rows*cols), testutil.RandSlice(testutil.NewRNG(7), cols), testutil.RandSlice(testutil.NewRNG(8), rows*cols)
	y := make([]float32, rows*cols)
	loss := func() float64 {
		copy(y, y0)
		BiasAdd(backend.BiasAdd{Rows: rows, Cols: cols}, y, b)
		return testutil.Dot64(dy, y)
	}
	loss()
	for r := range rows {
		for c := range cols {
			require.Equal(t, y0[r*cols+c]+b[c], y[r*cols+c])
		}
	}
	db := testutil.NaNSlice(cols)
	require.NoError(t, Run(backend.BiasGrad{Rows: rows, Cols: cols}, dy, db))
	testutil.RequireClose(t, db, testutil.FiniteDiff(b, 1e-2, loss), 1e-4, 1e-4, "db")
}

func TestFillAxpyScale(t *testing.T) {
	const n = 33
	x := testutil.NaNSlice(n)
	require.NoError(t, Run(backend.Fill{N: n, Value: 2.5}, x))
	for _, v := range x {
		require.Equal(t, float32(2.5), v)
	}
	a, b := testutil.RandSlice(testutil.NewRNG(9), n), testutil.RandSlice(testutil.NewRNG(10), n)
	want := make([]float64, n)
	for i := range want {
		want[i] = float64(b[i]) - 0.75*float64(a[i])
	}
	require.NoError(t, Run(backend.Axpy{N: n, Alpha: -0.75}, a, b))
	testutil.RequireClose(t, b, want, 0, 1e-7, "axpy")
	for i := range want {
		want[i] = 3 * float64(b[i])
	}
	require.NoError(t, Run(backend.Scale{N: n, Alpha: 3}, b))
	testutil.RequireClose(t, b, want, 0, 1e-7, "scale")
	// Only the first N elements are touched.
	long := []float32{1, 1, 1, 1}
	require.NoError(t, Run(backend.Fill{N: 3, Value: 0}, long))
	assert.Equal(t, []float32{0, 0, 0, 1}, long)
}
