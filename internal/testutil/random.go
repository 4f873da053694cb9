package testutil

import (
	"math"
	"math/rand/v2"
)

// NewRNG returns a deterministic PCG generator for seed; the same seed gives
// the same stream in every package.
func NewRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// RandSlice returns a new slice of n values drawn uniformly from [-1, 1)
// with r; the caller owns it.
func RandSlice(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(2*r.Float64() - 1)
	}
	return out
}

// NaNSlice returns a new slice of n NaNs, used to poison outputs so that
// elements a kernel does not write show up; the caller owns it.
func NaNSlice(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(math.NaN())
	}
	return out
}
