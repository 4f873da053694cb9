package vulkan

import (
	"testing"

	"github.com/crossgrad/crossgrad/backend/backendtest"
)

// TestWinogradPipeline: the four Winograd dispatches on Vulkan device 0
// equal the reference backend's direct conv2d_fwd (with bias) and
// conv2d_bwd_data within backendtest.WinogradTolerance, and the four
// F(3x3,2x2) dispatches its conv2d_bwd_filter within
// backendtest.WinogradGradTolerance.
func TestWinogradPipeline(t *testing.T) { backendtest.RunWinogradTest(t, openDefault) }
