package layers_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x1a7e5)) }

// randSlice returns n uniform values in [-1, 1).
func randSlice(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(2*r.Float64() - 1)
	}
	return out
}

func to64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
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
