package ref

// Philox4x32-10 constants (Salmon et al. 2011, Random123).
const (
	philoxM0 uint32 = 0xD2511F53
	philoxM1 uint32 = 0xCD9E8D57
	philoxW0 uint32 = 0x9E3779B9
	philoxW1 uint32 = 0xBB67AE85
)

// DropoutKey1 is the second key word of the dropout generator; the first is
// the seed.
const DropoutKey1 uint32 = 0xCA5A0B1E

// Philox4x32 is the counter-based generator Philox4x32-10 of Random123 and
// curand: ten rounds over the 128-bit counter with the 64-bit key, bumping
// the key by the Weyl constants between rounds. It returns four independent
// uniformly distributed words.
func Philox4x32(counter [4]uint32, key [2]uint32) [4]uint32 {
	c := counter
	k0, k1 := key[0], key[1]
	for round := 0; round < 10; round++ {
		if round > 0 {
			k0 += philoxW0
			k1 += philoxW1
		}
		p0 := uint64(philoxM0) * uint64(c[0])
		p1 := uint64(philoxM1) * uint64(c[2])
		hi0, lo0 := uint32(p0>>32), uint32(p0)
		hi1, lo1 := uint32(p1>>32), uint32(p1)
		c = [4]uint32{hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0}
	}
	return c
}

// DropoutUniform is the uniform number in [0,1) that decides whether element
// i is kept at dropout step step with seed seed: the top 24 bits of the first
// Philox word for counter (i, step, 0, 0) and key (seed, DropoutKey1), times
// 2^-24 (exact in float32).
func DropoutUniform(seed, step, i uint32) float32 {
	x0 := Philox4x32([4]uint32{i, step, 0, 0}, [2]uint32{seed, DropoutKey1})[0]
	return float32(x0>>8) * (1.0 / (1 << 24))
}

// DropoutKeep reports whether element i is kept by dropout with drop
// probability p: DropoutUniform(seed, step, i) >= p.
func DropoutKeep(seed, step, i uint32, p float32) bool {
	return DropoutUniform(seed, step, i) >= p
}
