package testutil

import (
	"math"

	"github.com/stretchr/testify/require"
)

// T is the part of *testing.T that RequireClose uses.
type T interface {
	require.TestingT
	Helper()
}

// RequireClose fails t unless got and want have the same length and
// |got[i]-want[i]| <= atol + rtol*|want[i]| for every i; a NaN in got never
// passes. what names the compared tensor in the failure message.
func RequireClose(t T, got []float32, want []float64, atol, rtol float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		g := float64(got[i])
		d, tol := math.Abs(g-want[i]), atol+rtol*math.Abs(want[i])
		if !math.IsNaN(g) && !(d > tol) {
			continue // what the two checks below pass, without their cost per element
		}
		require.Falsef(t, math.IsNaN(g), "%s[%d] is NaN (want %g)", what, i, want[i])
		require.LessOrEqualf(t, d, tol, "%s[%d] = %g, want %g", what, i, g, want[i])
	}
}
