package ref_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	"github.com/crossgrad/crossgrad/backend/ref"
)

// TestContract runs backendtest's failure contract on a reference device of
// 64 MiB, whose Alloc over that fails with backend.ErrOutOfMemory. The
// reference device cannot be lost.
func TestContract(t *testing.T) {
	backendtest.RunContractTest(t, func() (backend.Device, error) { return ref.NewWithMemory(64 << 20), nil }, backendtest.Faults{})
}

// TestNewWithMemoryCountsLiveBuffers checks that a reference device refuses
// allocations beyond its memory with backend.ErrOutOfMemory and counts
// released buffers back.
func TestNewWithMemoryCountsLiveBuffers(t *testing.T) {
	d := ref.NewWithMemory(4096)
	defer d.Close()
	assert.Equal(t, uint64(4096), d.Info().GlobalMemory)
	assert.Equal(t, uint64(4096), d.Info().MaxAlloc)
	a, err := d.Alloc(600) // 2400 bytes
	require.NoError(t, err)
	_, err = d.Alloc(500)
	require.ErrorIs(t, err, backend.ErrOutOfMemory)
	assert.EqualError(t, err, "ref: alloc of 500 elements (2000 bytes): 2400 of the device's 4096 bytes are in use: out of device memory")
	_, err = d.Alloc(1025)
	assert.EqualError(t, err, "ref: alloc of 1025 elements (4100 bytes): over the device's largest allocation of 4096 bytes: out of device memory")
	a.Release()
	a.Release()
	b, err := d.Alloc(1024)
	require.NoError(t, err, "released bytes count back, once")
	assert.Equal(t, 1024, b.Len())
	require.NoError(t, d.Close())
	_, err = d.Alloc(1)
	assert.ErrorIs(t, err, backend.ErrClosed)

	big := ref.New()
	defer big.Close()
	_, err = big.Alloc(int(big.Info().MaxAlloc/4) + 1)
	require.Error(t, err, "the machine's device refuses more than MaxAlloc too")
}
