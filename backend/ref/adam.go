package ref

import (
	"math"

	"github.com/crossgrad/crossgrad/backend"
)

// Adam applies one torch.optim.Adam step (weight_decay 0, amsgrad off) to
// every i < N, computed in float64 from the float32 inputs and rounded to
// float32 when stored:
//
//	m += OneMinusBeta1*(g-m)
//	v = Beta2*v + OneMinusBeta2*g*g
//	p -= StepSize * m / (sqrt(v)/BC2Sqrt + Eps)
//
// using the rounded new m and v (see backend.NewAdam for StepSize and
// BC2Sqrt). g is read; param, m and v are updated in place.
func Adam(p backend.Adam, param, g, m, v []float32) {
	b1c, b2, b2c, eps := float64(p.OneMinusBeta1), float64(p.Beta2), float64(p.OneMinusBeta2), float64(p.Eps)
	step, bc2 := float64(p.StepSize), float64(p.BC2Sqrt)
	for i := range int(p.N) {
		gi := float64(g[i])
		mi := float32(float64(m[i]) + b1c*(gi-float64(m[i])))
		vi := float32(b2*float64(v[i]) + b2c*gi*gi)
		m[i], v[i] = mi, vi
		param[i] = float32(float64(param[i]) - step*float64(mi)/(math.Sqrt(float64(vi))/bc2+eps))
	}
}
