package ref_test

import (
	"testing"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	"github.com/crossgrad/crossgrad/backend/ref"
)

// TestWinogradPipeline: the four Winograd dispatches on the reference
// device equal its direct conv2d_fwd (with bias) and conv2d_bwd_data
// within backendtest.WinogradTolerance (the four F(3x3,2x2) dispatches its
// conv2d_bwd_filter within backendtest.WinogradGradTolerance), over paddings 0, 1, 2 and odd
// planes.
func TestWinogradPipeline(t *testing.T) {
	backendtest.RunWinogradTest(t, func() (backend.Device, error) { return ref.New(), nil })
}
