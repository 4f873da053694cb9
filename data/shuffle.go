package data

import "math/bits"

// splitmix64 is a tiny, fully specified PRNG (Steele et al. 2014). It is used
// instead of math/rand so the shuffle order is fixed by this file alone and a
// resumed run reproduces it on any Go version.
type splitmix64 struct{ s uint64 }

func (r *splitmix64) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// below returns a uniform value in [0, n) by Lemire's multiply-and-reject.
func (r *splitmix64) below(n uint64) uint64 {
	hi, lo := bits.Mul64(r.next(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.next(), n)
		}
	}
	return hi
}

// Perm returns a permutation of 0..n-1 determined only by (seed, epoch): a
// Fisher-Yates shuffle driven by splitmix64 seeded from both. The slice is
// newly allocated and owned by the caller.
func Perm(n int, seed uint64, epoch int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	// Mix the epoch into the seed through one splitmix64 step so that nearby
	// (seed, epoch) pairs give unrelated streams.
	mix := splitmix64{s: seed}
	r := splitmix64{s: mix.next() ^ uint64(epoch)*0xD1B54A32D192ED03}
	for i := n - 1; i > 0; i-- {
		j := int(r.below(uint64(i + 1)))
		p[i], p[j] = p[j], p[i]
	}
	return p
}
