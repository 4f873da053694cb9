package ref

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

func TestCountNonfinite(t *testing.T) {
	bits := math.Float32frombits
	x := []float32{
		1, -0, bits(0x00000001), math.MaxFloat32, -math.MaxFloat32, bits(0x807FFFFF), // finite
		float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		bits(0x7FC00123), bits(0xFF800001), bits(0x7F800001), // NaN payloads, signalling NaN
		float32(math.NaN()), // beyond N: not counted
	}
	out := []float32{7, 7, 7}
	require.NoError(t, Run(backend.CountNonfinite{N: 12, Slot: 1}, x, out))
	assert.Equal(t, []float32{7, 6, 7}, out, "only out[Slot] is written")

	require.NoError(t, Run(backend.CountNonfinite{N: 6, Slot: 0}, x, out))
	assert.Equal(t, float32(0), out[0])

	err := Run(backend.CountNonfinite{N: 3, Slot: 3}, x, out)
	require.Error(t, err, "out needs Slot+1 elements")
	assert.Contains(t, err.Error(), "count_nonfinite")
	err = Run(backend.CountNonfinite{N: 3}, x, x)
	require.Error(t, err, "x and out must be distinct")
}
