package train

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/layers"
	"github.com/crossgrad/crossgrad/layers/layertest"
	"github.com/crossgrad/crossgrad/model"
)

// trackedName is the test-only stateful architecture. It sorts after the
// real models, so the known-models lists other tests quote stay intact.
const trackedName = "ztracked"

// trackedState is the state tensor of trackedArch's StepTracker.
const trackedState = "track.0.last_step"

// trackedArch is track.0 (layertest.StepTracker: one non-trained state
// tensor set to the step by every training pass), flatten, fc.0 (Linear
// InputSize^2 -> Classes).
type trackedArch struct{}

func init() { model.Register(trackedArch{}) }

func (trackedArch) Name() string  { return trackedName }
func (trackedArch) Title() string { return "test model owning one non-trained state tensor" }
func (trackedArch) Validate(o model.Options) error {
	return model.CheckCommon(trackedName, o)
}
func (trackedArch) Build(o model.Options) (*layers.Sequential, error) {
	return layers.NewSequential().Add("track", layertest.NewStepTracker()).Add("", layers.NewFlatten()).
		Add("fc", layers.NewLinear(o.InputSize*o.InputSize, o.Classes)), nil
}

// TestStatefulModelTrainResumeEvalPredict trains a model with non-trained
// state for 2 steps (interrupted), resumes it for the third and last step
// of its epoch, evaluates it and predicts with it: every command accepts
// the checkpoint, whose state tensor comes back into the plan bit for bit;
// a checkpoint without the state tensor is refused by each, naming it.
func TestStatefulModelTrainResumeEvalPredict(t *testing.T) {
	c := tinyConfig(t)
	c.Model, c.InputSize, c.Width, c.Epochs, c.TrainLimit = trackedName, 4, 1, 1, 96
	trainSet, testSet := synthSet(1, 256), synthSet(2, 128)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := Run(ctx, Options{Config: c, TrainSet: trainSet, TestSet: testSet,
		BeforeStep: func(step int, _ *graph.Plan) error {
			if step == 2 {
				cancel()
			}
			return nil
		}})
	var ie *InterruptedError
	require.ErrorAs(t, err, &ie)
	require.Equal(t, 2, ie.Step)
	ts, meta, err := checkpoint.Load(ie.Checkpoint)
	require.NoError(t, err)
	assert.Equal(t, trackedState, meta[checkpoint.MetaNonTrained])
	st := checkpoint.Find(ts, trackedState)
	require.NotNil(t, st, "the state is in the model file")
	assert.Equal(t, []float32{2, 2}, st.Data, "set by step 2")

	// Values no training pass writes (the next one overwrites them with its
	// step): the plan holds exactly these before step 3.
	odd := []float32{math.Float32frombits(0x3f9d70a5), math.Float32frombits(0xc2f6e979)}
	st.Data = odd
	delete(meta, checkpoint.MetaChecksum)
	require.NoError(t, checkpoint.Save(ie.Checkpoint, ts, meta))
	var before3 []float32
	rc := c
	rc.Resume = c.CheckpointDir
	res, err := Run(context.Background(), Options{Config: rc, TrainSet: trainSet, TestSet: testSet,
		BeforeStep: func(step int, p *graph.Plan) error {
			if step == 3 {
				s, err := p.ReadState()
				if err != nil {
					return err
				}
				before3 = s[0].Data
			}
			return nil
		}})
	require.NoError(t, err)
	assert.Equal(t, 3, res.Step)
	require.Len(t, before3, 2)
	for i := range odd {
		assert.Equal(t, math.Float32bits(odd[i]), math.Float32bits(before3[i]), "state element %d after resume", i)
	}
	final, _, err := checkpoint.Load(res.Checkpoint)
	require.NoError(t, err)
	assert.Equal(t, []float32{3, 3}, checkpoint.Find(final, trackedState).Data)

	ec := config.Default()
	ec.Backend, ec.BatchSize = []string{"ref"}, 64
	rep, err := EvalCheckpoint(context.Background(), EvalOptions{Config: ec, Checkpoint: c.CheckpointDir, TestSet: testSet})
	require.NoError(t, err)
	assert.Equal(t, trackedName+" input_size 4, width 1", rep.Model)
	assert.Equal(t, 128, rep.N)
	assert.Equal(t, res.Epochs[0].TestAcc, rep.Accuracy())
	inputs := []PredictInput{{Name: "first", Pixels: testSet.Images[:PredictSize*PredictSize], Label: -1}}
	pred, err := PredictCheckpoint(context.Background(), PredictOptions{Config: ec, Checkpoint: res.Checkpoint}, inputs)
	require.NoError(t, err)
	require.Len(t, pred.Predictions, 1)
	assert.Len(t, pred.Predictions[0].Logits, 10)

	// The same checkpoint without its state tensor.
	stateless := filepath.Join(t.TempDir(), filepath.Base(res.Checkpoint))
	var kept []checkpoint.Tensor
	for _, x := range final {
		if x.Name != trackedState {
			kept = append(kept, x)
		}
	}
	_, fmeta, err := checkpoint.Load(res.Checkpoint)
	require.NoError(t, err)
	delete(fmeta, checkpoint.MetaChecksum)
	require.NoError(t, checkpoint.Save(stateless, kept, fmeta))
	stateFile, err := os.ReadFile(checkpoint.StatePath(res.Checkpoint))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(checkpoint.StatePath(stateless), stateFile, 0o644))
	want := "has no tensor " + trackedState + " (non-trained state, shape [2] in the model: " + trackedName + " input_size 4, width 1)"

	_, err = EvalCheckpoint(context.Background(), EvalOptions{Config: ec, Checkpoint: stateless, TestSet: testSet})
	require.ErrorContains(t, err, want)
	_, err = PredictCheckpoint(context.Background(), PredictOptions{Config: ec, Checkpoint: stateless}, inputs)
	require.ErrorContains(t, err, want)
	sc := c
	sc.Resume, sc.Epochs = stateless, 2
	_, err = Run(context.Background(), Options{Config: sc, TrainSet: trainSet, TestSet: testSet, Explicit: map[string]bool{"epochs": true}})
	require.ErrorContains(t, err, want)
	assert.ElementsMatch(t, []string{filepath.Base(stateless), filepath.Base(checkpoint.StatePath(stateless))}, files(t, filepath.Dir(stateless)), "nothing written beside the refused checkpoint")
}
