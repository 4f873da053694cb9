package checkpoint

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadCheckpointRefusesNonFiniteModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), Name(8))
	ps := params(1)
	ps[0].Data[5] = float32(math.NaN())
	ps[2].Data[0], ps[2].Data[49] = float32(math.Inf(1)), float32(math.Inf(-1))
	require.NoError(t, SaveCheckpoint(path, ps, nil, state(2, 8)))

	_, _, _, err := LoadCheckpoint(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "conv.0.weight (1 NaN, 0 infinite of 36 values, the first at index 5)")
	assert.Contains(t, err.Error(), "fc.6.weight (0 NaN, 2 infinite of 50 values, the first at index 0)")
	assert.NotContains(t, err.Error(), "conv.0.bias")
	assert.Contains(t, err.Error(), "use an earlier checkpoint")

	// The file itself is intact: plain Load (for inspection) still reads it.
	ts, _, err := Load(path)
	require.NoError(t, err)
	assert.True(t, math.IsNaN(float64(ts[0].Data[5])))
}

func TestLoadCheckpointRefusesNonFiniteAdamState(t *testing.T) {
	path := filepath.Join(t.TempDir(), Name(8))
	st := state(2, 8)
	st.M[3].Data[9] = float32(math.NaN())
	st.V[1].Data[2] = float32(math.Inf(1))
	require.NoError(t, SaveCheckpoint(path, params(1), nil, st))

	_, _, _, err := LoadCheckpoint(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), StatePath(path))
	assert.Contains(t, err.Error(), "m.fc.6.bias (1 NaN, 0 infinite of 10 values, the first at index 9)")
	assert.Contains(t, err.Error(), "v.conv.0.bias (0 NaN, 1 infinite of 4 values, the first at index 2)")
}

func TestCheckFinite(t *testing.T) {
	require.NoError(t, CheckFinite("x", params(3)))
	require.NoError(t, CheckFinite("x", []Tensor{{Name: "big", Shape: []int{2}, Data: []float32{math.MaxFloat32, -math.MaxFloat32}}}))
	err := CheckFinite("x.safetensors", []Tensor{{Name: "w", Shape: []int{3}, Data: []float32{1, float32(math.NaN()), float32(math.NaN())}}})
	require.EqualError(t, err, "checkpoint: x.safetensors holds non-finite values in w (2 NaN, 0 infinite of 3 values, the first at index 1); "+
		"it was saved from a diverged run or damaged: use an earlier checkpoint")
}
