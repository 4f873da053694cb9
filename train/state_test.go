package train

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/layers"
	"github.com/crossgrad/crossgrad/layers/layertest"
)

// TestLayerStateCheckpointRoundTrip saves a model with a non-trained state
// tensor (layertest.StepTracker) as the trainer saves its model file, and
// loads it into a fresh plan as resuming does: the file holds the state
// under its state_dict name next to the parameters (listed as non-trained:
// the state file has moments for the parameters only), the state, the
// parameters and the moments come back, and a file without the state is
// refused.
func TestLayerStateCheckpointRoundTrip(t *testing.T) {
	dev := ref.New()
	defer dev.Close()
	in := layers.Shape{2, 1, 4, 4}
	cfg := graph.Config{Seed: 1, Input: graph.ResizeInput{SrcH: 4, SrcW: 4}}
	a, err := graph.New(dev, layertest.TrackedModel(), in, cfg)
	require.NoError(t, err)
	defer a.Close()
	img := make([]byte, 2*16)
	for i := range img {
		img[i] = byte(7 * i)
	}
	require.NoError(t, a.Upload(img, []int{2, 0}))
	_, err = a.TrainStep(3, 2)
	require.NoError(t, err)

	meta := map[string]string{}
	ts, err := modelTensors(a, meta)
	require.NoError(t, err)
	assert.Equal(t, "track.0.last_step", meta[checkpoint.MetaNonTrained])
	adam, err := a.ReadAdam()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), checkpoint.Name(3))
	require.NoError(t, checkpoint.SaveCheckpoint(path, ts, meta, checkpoint.State{Step: 3, M: toCkpt(adam.M), V: toCkpt(adam.V)}))
	loaded, _, state, err := checkpoint.LoadCheckpoint(path)
	require.NoError(t, err, "moments for the parameters only")
	require.Len(t, state.M, 2)
	st := checkpoint.Find(loaded, "track.0.last_step")
	require.NotNil(t, st, "the state is in the model file")
	assert.Equal(t, []int{2}, st.Shape)
	assert.Equal(t, []float32{3, 3}, st.Data)

	cfg.Seed = 2
	b, err := graph.New(dev, layertest.TrackedModel(), in, cfg)
	require.NoError(t, err)
	defer b.Close()
	require.NoError(t, loadModelTensors(b, loaded))
	require.NoError(t, b.LoadAdam(graph.AdamState{Step: 3, M: fromCkpt(state.M), V: fromCkpt(state.V)}))
	sb, err := b.ReadState()
	require.NoError(t, err)
	assert.Equal(t, []float32{3, 3}, sb[0].Data)
	pa, err := a.ReadParams()
	require.NoError(t, err)
	pb, err := b.ReadParams()
	require.NoError(t, err)
	assert.Equal(t, pa, pb)

	var noState []checkpoint.Tensor
	for _, t := range loaded {
		if t.Name != "track.0.last_step" {
			noState = append(noState, t)
		}
	}
	require.ErrorContains(t, loadModelTensors(b, noState), `"track.0.last_step" missing`)
}
