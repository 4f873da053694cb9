package ref

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// newRNG returns a deterministic generator for test t.
func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// randSlice returns n uniform values in [-1, 1).
func randSlice(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(2*r.Float64() - 1)
	}
	return out
}

// nanSlice returns n NaNs (outputs are poisoned so unwritten elements show).
func nanSlice(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(math.NaN())
	}
	return out
}

// dot64 is sum a[i]*b[i] in float64.
func dot64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// requireClose asserts |got-want| <= atol + rtol*|want| element-wise (NaN
// never passes).
func requireClose(t *testing.T, got []float32, want []float64, atol, rtol float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		g := float64(got[i])
		require.Falsef(t, math.IsNaN(g), "%s[%d] is NaN (want %g)", what, i, want[i])
		require.LessOrEqualf(t, math.Abs(g-want[i]), atol+rtol*math.Abs(want[i]),
			"%s[%d] = %g, want %g", what, i, g, want[i])
	}
}

// to64 widens a float32 slice.
func to64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// finiteDiff returns the central difference (L(x+h e_i) - L(x-h e_i))/2h for
// every i, perturbing x in place and restoring it.
func finiteDiff(x []float32, h float32, loss func() float64) []float64 {
	out := make([]float64, len(x))
	for i := range x {
		orig := x[i]
		x[i] = orig + h
		up := loss()
		x[i] = orig - h
		down := loss()
		x[i] = orig
		out[i] = (up - down) / float64((orig+h)-(orig-h))
	}
	return out
}
