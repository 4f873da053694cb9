package opencl

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
)

func TestEveryKernelHasALauncher(t *testing.T) {
	require.NoError(t, backendtest.CheckKernelTable(launchers))
	none := func(*Device, backend.Params, []*Buffer) error { return nil }
	assert.PanicsWithValue(t, "opencl: launcher for unknown kernel winograd", func() { registerLauncher("winograd", none) })
	assert.PanicsWithValue(t, "opencl: launcher registered twice for gemm", func() { registerLauncher(backend.KGemm, none) })
}
