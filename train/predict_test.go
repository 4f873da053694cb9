package train

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/data"
)

func TestSoftmax(t *testing.T) {
	p := Softmax([]float32{0, float32(math.Log(3))})
	assert.InDelta(t, 0.25, p[0], 1e-7)
	assert.InDelta(t, 0.75, p[1], 1e-7)
	// Large logits neither overflow nor lose the ratio.
	p = Softmax([]float32{1000, 1000, 999})
	e := math.Exp(-1)
	assert.InDelta(t, 1/(2+e), p[0], 1e-12)
	assert.InDelta(t, e/(2+e), p[2], 1e-12)
	assert.InDelta(t, 1, p[0]+p[1]+p[2], 1e-12)
	assert.Empty(t, Softmax(nil))
}

func TestPredictionTop(t *testing.T) {
	p := Prediction{Probs: []float64{0.1, 0.3, 0.05, 0.3, 0.25}}
	top := p.Top(3)
	require.Len(t, top, 3)
	// Ties keep the lower class first, as evaluation's first maximal logit.
	assert.Equal(t, []int{1, 3, 4}, []int{top[0].Class, top[1].Class, top[2].Class})
	assert.Equal(t, "Trouser", top[0].Name)
	assert.Equal(t, "Dress", top[1].Name)
	assert.Equal(t, 0.25, top[2].Prob)
	assert.Len(t, p.Top(10), 5)
	assert.Empty(t, p.Top(0))
}

// tinyCheckpoint trains the narrow tiny model for two steps and returns its
// configuration (checkpoint folder included).
func tinyCheckpoint(t *testing.T) config.Config {
	t.Helper()
	c := narrowConfig(t)
	c.Epochs, c.BatchSize = 1, 16
	_, err := runSets(t, context.Background(), c, Options{}, synthSet(1, 32), synthSet(2, 16))
	require.NoError(t, err)
	return c
}

// predictConfig is a configuration that knows nothing of the model shape:
// it must come from the checkpoint.
func predictConfig() config.Config {
	c := config.Default()
	c.Backend, c.BatchSize = []string{"ref"}, 4
	return c
}

// TestPredictAgreesWithEvaluation classifies 10 test images with
// PredictCheckpoint (batches of 4) and checks the probabilities against the
// softmax of the logits the evaluation path (Batcher, UploadPacked,
// EvalStep, ReadLogits) computes for them, and that EvalCheckpoint counts
// every image correct when labelled with predict's top class.
func TestPredictAgreesWithEvaluation(t *testing.T) {
	c := tinyCheckpoint(t)
	set := synthSet(3, 10)
	inputs := make([]PredictInput, set.N)
	for i := range inputs {
		inputs[i] = PredictInput{Name: "synth", Pixels: set.Image(i), Label: -1}
	}
	rep, err := PredictCheckpoint(context.Background(), PredictOptions{Config: predictConfig(), Checkpoint: c.CheckpointDir}, inputs)
	require.NoError(t, err)
	assert.Equal(t, ModelDesc(c), rep.Model)
	assert.Equal(t, "pure-Go reference (ref:0)", rep.Device)
	assert.Contains(t, rep.Checkpoint, "ckpt-000000002.safetensors")
	require.Len(t, rep.Predictions, set.N)

	ec := c
	model, err := NewModel(ec)
	require.NoError(t, err)
	op, err := Open(ec, model, nil)
	require.NoError(t, err)
	defer op.Close()
	_, _, ts, err := loadModel(&ec, rep.Checkpoint, nil, nil, "predict")
	require.NoError(t, err)
	require.NoError(t, op.Plan.LoadParams(fromCkpt(ts)))
	b, err := data.NewBatcher(set, data.Options{BatchSize: set.N})
	require.NoError(t, err)
	it, err := b.Iter(0, 0)
	require.NoError(t, err)
	defer it.Close()
	bt, ok := it.Next()
	require.True(t, ok)
	require.NoError(t, op.Plan.UploadPacked(bt.Images, bt.Labels))
	_, err = op.Plan.EvalStep(bt.N)
	require.NoError(t, err)
	logits, err := op.Plan.ReadLogits(bt.N)
	require.NoError(t, err)

	labelled := &data.Set{Images: set.Images, Labels: make([]uint8, set.N), N: set.N, Rows: 28, Cols: 28}
	for i, p := range rep.Predictions {
		want := Softmax(logits[i*10 : (i+1)*10])
		var sum float64
		for k := range want {
			assert.InDelta(t, want[k], p.Probs[k], 1e-6, "image %d class %d", i, k)
			sum += p.Probs[k]
		}
		assert.InDelta(t, 1, sum, 1e-9)
		labelled.Labels[i] = uint8(p.Top(1)[0].Class)
	}
	ev, err := EvalCheckpoint(context.Background(), EvalOptions{Config: predictConfig(), Checkpoint: c.CheckpointDir, TestSet: labelled})
	require.NoError(t, err)
	assert.Equal(t, set.N, ev.Correct, "eval's predicted class is predict's top class for every image")
}

func TestPredictCheckpointErrors(t *testing.T) {
	in := []PredictInput{{Name: "a", Pixels: make([]byte, 784), Label: -1}}
	_, err := PredictCheckpoint(context.Background(), PredictOptions{Config: predictConfig(), Checkpoint: t.TempDir() + "/none"}, in)
	require.ErrorContains(t, err, "no such file or directory (give --checkpoint a ckpt-*.safetensors file or a run folder written by crossgrad train)")
	_, err = PredictCheckpoint(context.Background(), PredictOptions{Config: predictConfig(), Checkpoint: t.TempDir()}, in)
	require.ErrorContains(t, err, "no ckpt-*.safetensors with a state file in")
	require.ErrorContains(t, err, "give --checkpoint")
	_, err = PredictCheckpoint(context.Background(), PredictOptions{Config: predictConfig(), Checkpoint: "x"}, nil)
	require.ErrorContains(t, err, "no images to classify")
	_, err = PredictCheckpoint(context.Background(), PredictOptions{Config: predictConfig()}, in)
	require.ErrorContains(t, err, "no checkpoint given")
}
