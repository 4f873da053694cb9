package backend

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPILBilinearCoeffs(t *testing.T) {
	one := int32(1 << PILPrecisionBits)
	for _, c := range [][2]int{{28, 56}, {28, 224}, {28, 65}, {224, 28}, {7, 3}, {1, 5}, {5, 1}} {
		in, out := c[0], c[1]
		first, weights := PILBilinearCoeffs(in, out)
		require.Len(t, first, out)
		for o, w := range weights {
			var sum int32
			for _, x := range w {
				assert.GreaterOrEqual(t, x, int32(0))
				sum += x
			}
			assert.InDelta(t, one, sum, float64(len(w)), "%d->%d: weights of %d sum to 2^22", in, out, o)
			assert.GreaterOrEqual(t, first[o], 0)
			assert.LessOrEqual(t, first[o]+len(w), in)
		}
	}
	// 28 -> 56 upscaling: output 1 has centre 0.75, taps input 0 and 1 with
	// weights 0.75 and 0.25 (input centres at 0.5 and 1.5).
	first, weights := PILBilinearCoeffs(28, 56)
	assert.Equal(t, 0, first[1])
	assert.Equal(t, []int32{3 * one / 4, one / 4}, weights[1])
	// Output 0 (centre 0.25) is input 0 alone: the left tap is clipped.
	assert.Equal(t, []int32{one}, weights[0])
}
