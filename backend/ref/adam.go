package ref

import (
	"math"

	"github.com/crossgrad/crossgrad/backend"
)

// Adam applies one torch.optim.Adam step (weight_decay 0, amsgrad off) to
// every i < N in IEEE float32, each operation rounded, none fused, in the
// order of the OpenCL and Vulkan kernels (so that every backend gives the
// same bits):
//
//	m = m + OneMinusBeta1*(g-m)
//	v = Beta2*v + OneMinusBeta2*(g*g)
//	p = p - (StepSize*m) / (sqrt(v)/BC2Sqrt + Eps)
//
// with the new m and v and a correctly rounded sqrt (see backend.NewAdam for
// StepSize and BC2Sqrt). g is read; param, m and v are updated in place.
func Adam(p backend.Adam, param, g, m, v []float32) {
	b1c, b2, b2c, eps := p.OneMinusBeta1, p.Beta2, p.OneMinusBeta2, p.Eps
	step, bc2 := p.StepSize, p.BC2Sqrt
	for i := range int(p.N) {
		// Explicit float32 conversions round each product, which keeps
		// the compiler from fusing it into a multiply-add (Go spec).
		gi, mi := g[i], m[i]
		mi = mi + float32(b1c*(gi-mi))
		vi := float32(b2*v[i]) + float32(b2c*float32(gi*gi))
		m[i], v[i] = mi, vi
		sq := float32(math.Sqrt(float64(vi)))
		param[i] = param[i] - float32(step*mi)/(sq/bc2+eps)
	}
}
