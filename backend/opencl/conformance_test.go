package opencl

import (
	"testing"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
)

// TestConformance runs the shared suite of backend/backendtest on OpenCL
// device 0 against the reference backend.
func TestConformance(t *testing.T) {
	backendtest.RunTest(t, func() (backend.Device, error) { return Open(0) })
}
