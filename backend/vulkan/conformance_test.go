package vulkan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
)

// openDefault opens device 0 as the registered backend does.
func openDefault() (backend.Device, error) { return vulkanBackend{}.Open(0) }

// TestConformance runs the whole conformance suite on device 0 (with the
// validation layer when CROSSGRAD_VK_VALIDATION=1).
func TestConformance(t *testing.T) { backendtest.RunTest(t, openDefault) }

// TestEnvValidation checks that CROSSGRAD_VK_VALIDATION=1 makes the
// registered backend open devices with the validation layer.
func TestEnvValidation(t *testing.T) {
	requireValidation(t)
	t.Setenv(EnvValidation, "1")
	dev := backendtest.OpenOrSkip(t, openDefault)
	assert.NotNil(t, dev.(*Device).Validation())
	require.NoError(t, dev.Close())
	t.Setenv(EnvValidation, "")
	dev = backendtest.OpenOrSkip(t, openDefault)
	assert.Nil(t, dev.(*Device).Validation())
	require.NoError(t, dev.Close())
}
