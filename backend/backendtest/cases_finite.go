package backendtest

import (
	"fmt"
	"math"
	"math/rand"

	"github.com/crossgrad/crossgrad/backend"
)

// nonfinite are the values WithNonfinite plants: quiet NaN, both
// infinities, a NaN with a payload, a negative NaN and a signalling NaN.
var nonfinite = []uint32{0x7FC00000, 0x7F800000, 0xFF800000, 0x7FC00123, 0xFFC00000, 0x7F800001}

// WithNonfinite replaces a fraction frac of g's values, at random positions,
// by NaN (several bit patterns), +Inf and -Inf.
func WithNonfinite(g Gen, frac float64) Gen {
	return func(r *rand.Rand, n int) []float32 {
		v := g(r, n)
		for i := range v {
			if r.Float64() < frac {
				v[i] = math.Float32frombits(nonfinite[r.Intn(len(nonfinite))])
			}
		}
		return v
	}
}

// Extremes draws finite values at the edges of float32: the largest
// magnitudes, denormals and signed zeros, which a non-finite test must not
// count.
func Extremes() Gen {
	edge := []uint32{0x7F7FFFFF, 0xFF7FFFFF, 0x00000001, 0x807FFFFF, 0x00800000, 0x80000000, 0}
	return func(r *rand.Rand, n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = math.Float32frombits(edge[r.Intn(len(edge))])
		}
		return v
	}
}

func countNonfiniteCases() []Case {
	type fc struct {
		name string
		n    int
		slot uint32
		x    Gen
	}
	var list []fc
	for i, n := range oddSizes {
		list = append(list, fc{fmt.Sprintf("n%d_mixed", n), n, uint32(i % 3), WithNonfinite(Symmetric(1), 0.05)})
	}
	list = append(list,
		fc{"n4099_finite", 4099, 0, FanIn(4099)},
		fc{"n1025_extremes_finite", 1025, 2, Extremes()},
		fc{"n1_nan", 1, 0, WithNonfinite(Symmetric(1), 1)},
		fc{"n65537_all_nonfinite", 65537, 1, WithNonfinite(Symmetric(1), 1)},
		fc{"n131075_one_in_1e4", 131075, 5, WithNonfinite(Symmetric(1), 1e-4)},
		fc{"n33_slot40", 33, 40, WithNonfinite(Symmetric(1), 0.3)},
	)
	var out []Case
	for _, f := range list {
		// Slot 0 of a one-element out is NaN-poisoned (must be written);
		// larger outs start finite so that untouched slots are checked too.
		var o Gen
		if f.slot > 0 {
			o = Symmetric(1)
		}
		out = append(out, Case{Name: f.name, Params: backend.CountNonfinite{N: uint32(f.n), Slot: f.slot},
			Init: []Gen{f.x, o}})
	}
	return out
}
