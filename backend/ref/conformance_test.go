package ref_test

import (
	"testing"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	"github.com/crossgrad/crossgrad/backend/ref"
)

// TestConformance runs the exported suite on the reference device against a
// second reference device: it proves the suite's plumbing (inputs, NaN
// poisoning, slack, aliasing, bad inputs, release rules) on the backend that
// defines the semantics.
func TestConformance(t *testing.T) {
	backendtest.RunTest(t, func() (backend.Device, error) { return ref.New(), nil })
}
