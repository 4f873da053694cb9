package ref_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	"github.com/crossgrad/crossgrad/backend/ref"
)

func TestEveryKernelHasAReference(t *testing.T) {
	require.NoError(t, backendtest.CheckKernelTable(ref.KernelTable))
}

func TestRunTakesParamsByPointer(t *testing.T) {
	x := make([]float32, 3)
	require.NoError(t, ref.Run(&backend.Fill{N: 3, Value: 1.5}, x))
	assert.Equal(t, []float32{1.5, 1.5, 1.5}, x)
}

func TestRunAliasingFollowsRoles(t *testing.T) {
	a := []float32{1, -2, 3}
	require.NoError(t, ref.Run(backend.ReluBwd{N: 3}, []float32{1, 0, 1}, a, a), "dx may be dy")
	assert.Equal(t, []float32{1, 0, 3}, a)
	require.NoError(t, ref.Run(backend.NewAdam(3, 1e-3, 0.9, 0.999, 1e-8, 1), a, a, a, a), "adam's buffers are element-wise")
	err := ref.Run(backend.CountNonfinite{N: 1}, a, a)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "buffers 0 and 1 overlap")
	err = ref.Run(backend.BiasAdd{Rows: 1, Cols: 3}, a, a)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bias_add")
}
