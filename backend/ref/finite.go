package ref

import (
	"math"

	"github.com/crossgrad/crossgrad/backend"
)

// nonfiniteExp is the float32 exponent field of NaN and the infinities.
const nonfiniteExp = 0x7F800000

// CountNonfinite writes to out[Slot] the number of NaN and infinite values
// among x[i], i < N, as float32.
func CountNonfinite(p backend.CountNonfinite, x, out []float32) {
	n := 0
	for _, v := range x[:p.N] {
		if math.Float32bits(v)&nonfiniteExp == nonfiniteExp {
			n++
		}
	}
	out[p.Slot] = float32(n)
}
