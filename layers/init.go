package layers

import (
	"hash/fnv"
	"math"
)

// InitParams returns the initial values of every parameter of s, in Params()
// order, as PyTorch's default initialisation: weights from
// kaiming_uniform_(a=sqrt(5)) and biases from uniform(-b, b), both of which
// are uniform in (-1/sqrt(fan_in), 1/sqrt(fan_in)). Values come from a
// splitmix64 stream seeded by seed and the parameter's name, so they are the
// same on every machine and backend and do not depend on the other
// parameters of the model. The slices are new and owned by the caller.
func (s *Sequential) InitParams(seed uint64) [][]float32 {
	ps := s.Params()
	out := make([][]float32, len(ps))
	for i, p := range ps {
		out[i] = InitUniform(seed, p.Name, p.Elems(), InitBound(p.FanIn))
	}
	return out
}

// InitBound is PyTorch's default init bound 1/sqrt(fanIn) for Conv2d and
// Linear weights (kaiming_uniform_ with a=sqrt(5): gain sqrt(1/3), bound
// gain*sqrt(3/fanIn)) and biases.
func InitBound(fanIn int) float64 {
	if fanIn <= 0 {
		return 0
	}
	return 1 / math.Sqrt(float64(fanIn))
}

// InitUniform returns n values uniform in [-bound, bound) from the
// deterministic stream of (seed, name).
func InitUniform(seed uint64, name string, n int, bound float64) []float32 {
	h := fnv.New64a()
	h.Write([]byte(name))
	r := splitmix64{state: seed ^ h.Sum64()}
	out := make([]float32, n)
	for i := range out {
		u := float64(r.next()>>11) * (1.0 / (1 << 53))
		out[i] = float32((2*u - 1) * bound)
	}
	return out
}

// splitmix64 is Steele, Lea and Flood's SplitMix64 generator.
type splitmix64 struct{ state uint64 }

func (r *splitmix64) next() uint64 {
	r.state += 0x9E3779B97F4A7C15
	z := r.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}
