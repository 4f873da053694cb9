package testutil

// To64 returns a new float64 slice holding the values of x (same length).
func To64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// Dot64 returns sum a[i]*b[i] over the indices of a, accumulated in float64;
// b must be at least as long as a.
func Dot64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// FiniteDiff returns, for every index i of x, the central difference
// (loss(x+h e_i) - loss(x-h e_i)) / (the actual distance between the two
// points). It perturbs x in place, one element at a time, and restores each
// element before moving on, so x is unchanged on return; loss must read x.
func FiniteDiff[T float32 | float64](x []T, h T, loss func() float64) []float64 {
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
