package train

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/graph"
)

// poisonAt returns a BeforeStep that writes a NaN into element 17 of
// conv.3.weight before step at.
func poisonAt(at int) func(int, *graph.Plan) error {
	return func(step int, p *graph.Plan) error {
		if step != at {
			return nil
		}
		for _, t := range p.Params() {
			if t.Name == "conv.3.weight" {
				return p.Device().Write(t.Buffer, 17, []float32{float32(math.NaN())})
			}
		}
		return errors.New("no conv.3.weight")
	}
}

func TestResumeRefusesCheckpointWithNaN(t *testing.T) {
	heavyOnRef(t)
	c := tinyConfig(t)
	c.Epochs, c.TrainLimit, c.TestLimit = 1, 64, 32
	first, _, err := runTiny(t, c, Options{})
	require.NoError(t, err)
	path := first.Checkpoint
	require.Equal(t, filepath.Join(c.CheckpointDir, checkpoint.Name(2)), path)

	// One NaN in conv.3.weight, saved with a valid checksum.
	ts, meta, err := checkpoint.Load(path)
	require.NoError(t, err)
	w := checkpoint.Find(ts, "conv.3.weight")
	require.NotNil(t, w)
	w.Data[17] = float32(math.NaN())
	delete(meta, checkpoint.MetaChecksum)
	require.NoError(t, checkpoint.Save(path, ts, meta))

	c2 := c
	c2.Resume, c2.Epochs = path, 2
	res, out, err := runTiny(t, c2, Options{Explicit: map[string]bool{"epochs": true}})
	require.Error(t, err)
	assert.Nil(t, res)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "conv.3.weight (1 NaN, 0 infinite of 2400 values, the first at index 17)")
	assert.Empty(t, out, "nothing trained")
	l, err := checkpoint.List(c.CheckpointDir)
	require.NoError(t, err)
	assert.Equal(t, []string{path}, l, "no checkpoint written")

	// eval and predict refuse the same checkpoint before opening a device.
	ec := c
	ec.TestLimit = 8
	_, err = EvalCheckpoint(context.Background(), EvalOptions{Config: ec, Checkpoint: path, TestSet: synthSet(2, 16)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "train: eval:")
	assert.Contains(t, err.Error(), "conv.3.weight (1 NaN")
	_, err = PredictCheckpoint(context.Background(), PredictOptions{Config: ec, Checkpoint: path},
		[]PredictInput{{Name: "zeros", Pixels: make([]byte, PredictSize*PredictSize)}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "train: predict:")
	assert.Contains(t, err.Error(), "conv.3.weight (1 NaN")
}

func TestCheckpointWithNaNIsNotWritten(t *testing.T) {
	heavyOnRef(t)
	c := tinyConfig(t)
	c.Epochs, c.CheckpointEverySteps = 1, 2
	// The NaN goes in before step 3: the checkpoint of step 2 is good, the
	// one of step 4 must not be written.
	res, _, err := runTiny(t, c, Options{BeforeStep: poisonAt(3)})
	require.Error(t, err)
	var ne *NonFiniteParamsError
	require.ErrorAs(t, err, &ne, "%v", err)
	good := filepath.Join(c.CheckpointDir, checkpoint.Name(2))
	assert.Equal(t, 4, ne.Step)
	assert.Equal(t, good, ne.Checkpoint)
	assert.Equal(t, "before writing the checkpoint (every 2 steps)", ne.Reason)
	var names []string
	for _, t := range ne.Tensors {
		names = append(names, t.Name)
	}
	assert.Contains(t, names, "conv.3.weight")
	assert.Contains(t, err.Error(), "train: step 4: NaN or infinite values in ")
	assert.Contains(t, err.Error(), "conv.3.weight (1 of 2400 values)")
	assert.Contains(t, err.Error(), "found before writing the checkpoint (every 2 steps)")
	assert.Contains(t, err.Error(), good, "the last good checkpoint")
	assert.Equal(t, 4, res.Step)

	l, err := checkpoint.List(c.CheckpointDir)
	require.NoError(t, err)
	assert.Equal(t, []string{good}, l, "only the checkpoint before the NaN")
	_, _, _, err = checkpoint.LoadCheckpoint(good)
	require.NoError(t, err, "the good checkpoint is finite")
}

func TestPeriodicCheckStopsTraining(t *testing.T) {
	heavyOnRef(t)
	c := tinyConfig(t)
	// 128 steps in the epoch; the periodic check at step 100 comes before
	// any checkpoint.
	c.Epochs, c.BatchSize = 1, 2
	res, _, err := runTiny(t, c, Options{BeforeStep: poisonAt(10)})
	var ne *NonFiniteParamsError
	require.ErrorAs(t, err, &ne, "%v", err)
	assert.Equal(t, FiniteCheckSteps, ne.Step)
	assert.Equal(t, "by the check every 100 steps", ne.Reason)
	assert.Empty(t, ne.Checkpoint)
	// As in the report that found it: the NaN spreads into conv.0 through
	// the input gradient while the loss stays finite.
	assert.Contains(t, ne.Tensors, graph.NonFiniteTensor{Name: "conv.3.weight", Count: 1, Elems: 2400})
	assert.Contains(t, ne.Tensors, graph.NonFiniteTensor{Name: "conv.0.weight", Count: 121, Elems: 726})
	assert.Contains(t, err.Error(), "conv.3.weight (")
	assert.Equal(t, FiniteCheckSteps, res.Step)
	l, err := checkpoint.List(c.CheckpointDir)
	require.NoError(t, err)
	assert.Empty(t, l)
}

func TestDivergingLossWarnsOnce(t *testing.T) {
	heavyOnRef(t)
	c := tinyConfig(t)
	c.Epochs, c.TrainLimit, c.TestLimit, c.LR = 1, 128, 32, 1
	var logBuf bytes.Buffer
	res, out, err := runTiny(t, c, Options{Log: slog.New(slog.NewTextHandler(&logBuf, nil))})
	require.NoError(t, err, "a diverging but finite loss only warns")
	assert.Equal(t, 4, res.Step)
	log := logBuf.String()
	assert.Equal(t, 1, strings.Count(log, "training is diverging"), log)
	assert.Contains(t, log, "at step 2 (epoch 1)")
	assert.Contains(t, log, "step=2 ")
	assert.Contains(t, log, "lower --lr (now 1)")
	ls := lines(out)
	require.Len(t, ls, 3, out)
	assert.Regexp(t, reTrainingOn, ls[0])
	assert.Regexp(t, reEpoch, ls[1])
	assert.Regexp(t, reTotal, ls[2])
}

func TestDivergenceThresholds(t *testing.T) {
	var logBuf bytes.Buffer
	r := &run{log: slog.New(slog.NewTextHandler(&logBuf, nil))}
	for _, loss := range []float64{0.001, 999, 0.5} {
		r.step++
		r.warnDivergence(loss)
	}
	assert.Empty(t, logBuf.String(), "the limit is 1000 times a first loss taken as at least 1")
	r.step++
	r.warnDivergence(1001)
	r.warnDivergence(1e9)
	assert.Equal(t, 1, strings.Count(logBuf.String(), "training is diverging"), "once per run")
	assert.Contains(t, logBuf.String(), "the loss is 1001 at step 4")

	logBuf.Reset()
	r = &run{log: slog.New(slog.NewTextHandler(&logBuf, nil))}
	r.warnDivergence(5000)
	r.warnDivergence(9e5)
	assert.Empty(t, logBuf.String())
	r.warnDivergence(2e6)
	assert.Contains(t, logBuf.String(), "the loss is 2e+06", "above 1e6 whatever the first loss")
	logBuf.Reset()
	r = &run{log: slog.New(slog.NewTextHandler(&logBuf, nil))}
	r.warnDivergence(2.3)
	r.warnDivergence(math.NaN())
	assert.Empty(t, logBuf.String(), "a NaN loss is NonFiniteError's to report")
}

func TestNonFiniteParamsErrorListsSixTensors(t *testing.T) {
	e := &NonFiniteParamsError{Step: 7, Reason: "by the check every 100 steps"}
	for i := range 8 {
		e.Tensors = append(e.Tensors, graph.NonFiniteTensor{Name: fmt.Sprintf("t%d", i), Count: i + 1, Elems: 10})
	}
	assert.Equal(t, "train: step 7: NaN or infinite values in t0 (1 of 10 values), t1 (2 of 10 values), t2 (3 of 10 values), "+
		"t3 (4 of 10 values), t4 (5 of 10 values), t5 (6 of 10 values), and 2 more tensors, found by the check every 100 steps; "+
		"training stopped and no checkpoint holds them. The loss stayed finite: the run diverged (restart it with a lower --lr) "+
		"or the model was damaged", e.Error())
}
