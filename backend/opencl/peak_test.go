package opencl

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPeak runs the peak kernels of shaders/opencl/peak.cl at small sizes:
// positive figures, bad sizes refused, KernelTimes untouched.
func TestPeak(t *testing.T) {
	d := openTest(t)
	_, err := d.KernelTimes() // timing on, nothing pending
	require.NoError(t, err)
	g, err := d.PeakFMA(1000, 8) // not a multiple of the work-group size
	require.NoError(t, err)
	assert.Positive(t, g)
	bw, err := d.PeakCopy(1 << 20)
	require.NoError(t, err)
	assert.Positive(t, bw)
	times, err := d.KernelTimes()
	require.NoError(t, err)
	assert.Empty(t, times, "peak kernels are not accounted to the closed list")
	assert.Zero(t, d.LiveBuffers(), "peak buffers are internal and released")

	_, err = d.PeakFMA(0, 8)
	assert.Error(t, err)
	_, err = d.PeakFMA(10, 0)
	assert.Error(t, err)
	_, err = d.PeakCopy(8)
	assert.Error(t, err)
	_, err = d.PeakCopy(int(d.Info().MaxAlloc) + 16)
	assert.Error(t, err)
	require.NoError(t, d.Close())
	_, err = d.PeakFMA(10, 1)
	assert.Error(t, err)
	_, err = d.PeakCopy(1 << 10)
	assert.Error(t, err)
}
