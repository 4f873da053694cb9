package vulkan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPeak runs the peak shaders at small sizes: positive figures, bad
// sizes refused, nothing left in KernelTimes or the live buffers.
func TestPeak(t *testing.T) {
	d := openOrSkip(t, Options{CacheDir: "-"})
	g, err := d.PeakFMA(1000, 8)
	require.NoError(t, err)
	assert.Positive(t, g)
	bw, err := d.PeakCopy(1 << 20)
	require.NoError(t, err)
	assert.Positive(t, bw)
	times, err := d.KernelTimes()
	require.NoError(t, err)
	assert.Empty(t, times, "peak passes are not reported as kernels")
	assert.Zero(t, d.LiveBuffers())

	_, err = d.PeakFMA(0, 1)
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
}
