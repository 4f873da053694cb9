package opencl

import (
	"math"
	"math/rand"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// openTest opens OpenCL device 0 for a test, closed at cleanup. It skips
// only when no OpenCL platform exists and CI is not "true".
func openTest(t *testing.T) *Device {
	t.Helper()
	if _, err := listDevices(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but OpenCL is unavailable: %v", err)
		}
		t.Skipf("no OpenCL device: %v", err)
	}
	d, err := Open(0)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, d.Close()) })
	return d
}

// upload allocates a buffer on d holding exactly v.
func upload(t *testing.T, d backend.Device, v []float32) backend.Buffer {
	t.Helper()
	b, err := d.Alloc(len(v))
	require.NoError(t, err)
	require.NoError(t, d.Write(b, 0, v))
	return b
}

// download reads n elements of b.
func download(t *testing.T, d backend.Device, b backend.Buffer, n int) []float32 {
	t.Helper()
	out := make([]float32, n)
	require.NoError(t, d.Read(b, 0, out))
	return out
}

func randSlice(r *rand.Rand, n int, lo, hi float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*r.Float64())
	}
	return v
}

// requireClose asserts |got-want| <= atol + rtol*|want| element-wise (equal
// values, NaN included, always pass).
func requireClose(t *testing.T, name string, want, got []float32, atol, rtol float64) {
	t.Helper()
	require.Len(t, got, len(want), name)
	bad := 0
	for i := range want {
		w, g := float64(want[i]), float64(got[i])
		if w == g || (math.IsNaN(w) && math.IsNaN(g)) {
			continue
		}
		if math.IsNaN(g) || math.Abs(g-w) > atol+rtol*math.Abs(w) {
			if bad < 5 {
				t.Errorf("%s[%d]: got %v, want %v (atol %g rtol %g)", name, i, g, w, atol, rtol)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d elements out of tolerance", name, bad, len(want))
	}
}
