package bench

import (
	"math"
	"sort"
)

// Stat summarises N samples of one figure: the median with the minimum and
// maximum. The zero Stat (N == 0) means "not measured".
type Stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

// Summarize returns the median, minimum and maximum of xs (the median of an
// even count is the mean of the two middle values). NaN samples are
// ignored; no samples give the zero Stat. xs is not modified.
func Summarize(xs []float64) Stat {
	s := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			s = append(s, x)
		}
	}
	if len(s) == 0 {
		return Stat{}
	}
	sort.Float64s(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Stat{Median: med, Min: s[0], Max: s[n-1], N: n}
}

// Valid reports whether the Stat holds at least one sample.
func (s Stat) Valid() bool { return s.N > 0 }

// Map applies a monotone function to the Stat: f(Median) (exact for an odd
// count, the median of f(samples) then), and f(Min), f(Max) swapped when f
// is decreasing (as turning times into rates is).
func (s Stat) Map(f func(float64) float64) Stat {
	if !s.Valid() {
		return Stat{}
	}
	out := Stat{Median: f(s.Median), Min: f(s.Min), Max: f(s.Max), N: s.N}
	if out.Min > out.Max {
		out.Min, out.Max = out.Max, out.Min
	}
	return out
}
