package vulkan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// TestDependentChain records long chains of dependent dispatches and
// copies into batches (read-after-write, write-after-read and
// write-after-write on the same buffers, staged writes into buffers that
// queued work still uses, batches that fill up) and checks the exact
// result; under validation when the layer is installed.
func TestDependentChain(t *testing.T) {
	t.Run("direct", func(t *testing.T) { dependentChain(t, false) })
	t.Run("staged", func(t *testing.T) { dependentChain(t, true) })
}

func dependentChain(t *testing.T, staged bool) {
	opts := Options{Validation: ValidationAvailable(), MaxBatch: 16, forceStaging: staged}
	d := openOrSkip(t, opts)
	defer func() { require.NoError(t, d.Close()) }()
	const n = 1000
	x := allocT(t, d, n)
	y := allocT(t, d, n)
	defer x.Release()
	defer y.Release()
	require.NoError(t, d.Dispatch(backend.Fill{N: n, Value: 1}, x))
	require.NoError(t, d.Dispatch(backend.Fill{N: n, Value: 0}, y))
	// y = y/2 + x, 20 times: y = 2 - 2^-19 exactly.
	for range 20 {
		require.NoError(t, d.Dispatch(backend.Scale{N: n, Alpha: 0.5}, y))
		require.NoError(t, d.Dispatch(backend.Axpy{N: n, Alpha: 1}, x, y))
	}
	// Overwrite x while the batch still reads it: the copy must land after
	// those reads and before the next.
	xs := make([]float32, n)
	for i := range xs {
		xs[i] = float32(i%5) - 2
	}
	require.NoError(t, d.Write(x, 0, xs))
	require.NoError(t, d.Dispatch(backend.Axpy{N: n, Alpha: 1}, x, y))
	require.NoError(t, d.Dispatch(backend.ReluFwd{N: n}, y, x))
	got := make([]float32, n)
	require.NoError(t, d.Read(x, 0, got))
	for i := range got {
		want := max(2-1.0/(1<<19)+xs[i], 0)
		if !assert.Equal(t, want, got[i], "element %d", i) {
			break
		}
	}
	if vl := d.Validation(); vl != nil {
		assert.Empty(t, vl.Errors())
	}
}
