package vulkan

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
)

// openOrSkip opens device 0 with opts, skipping the test where no Vulkan
// driver exists (unless CI=true).
func openOrSkip(t testing.TB, opts Options) *Device {
	t.Helper()
	tt, ok := t.(*testing.T)
	if !ok {
		d, err := OpenDevice(0, opts)
		if err != nil {
			if errors.Is(err, backend.ErrNoDriver) {
				t.Skipf("no Vulkan driver: %v", err)
			}
			t.Fatal(err)
		}
		return d
	}
	dev := backendtest.OpenOrSkip(tt, func() (backend.Device, error) { return OpenDevice(0, opts) })
	return dev.(*Device)
}

// allocT allocates n elements or fails the test.
func allocT(t testing.TB, d backend.Device, n int) backend.Buffer {
	t.Helper()
	b, err := d.Alloc(n)
	require.NoError(t, err)
	return b
}
