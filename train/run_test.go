package train

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	reTrainingOn = regexp.MustCompile(`^training on pure-Go reference \(ref:0\)$`)
	reEpoch      = regexp.MustCompile(`^epoch (\d+) : loss \d+\.\d{3}, train acc [01]\.\d{3}, test acc [01]\.\d{3}$`)
	reTotal      = regexp.MustCompile(`^total training time \d+\.\d{2}, \d+\.\d images/sec on pure-Go reference \(ref:0\)$`)
)

// runTiny trains c on the synthetic sets (256 train, 128 test images).
func runTiny(t *testing.T, c config.Config, o Options) (*Result, string, error) {
	t.Helper()
	var out bytes.Buffer
	o.Config, o.Out = c, &out
	o.TrainSet, o.TestSet = synthSet(1, 256), synthSet(2, 128)
	res, err := Run(context.Background(), o)
	return res, out.String(), err
}

func readJSONL(t *testing.T, path string) (steps []StepRecord, epochs []EpochMetrics) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kind struct{ Kind string }
		require.NoError(t, json.Unmarshal(sc.Bytes(), &kind))
		switch kind.Kind {
		case "step":
			var s StepRecord
			require.NoError(t, json.Unmarshal(sc.Bytes(), &s))
			steps = append(steps, s)
		case "epoch":
			var e EpochMetrics
			require.NoError(t, json.Unmarshal(sc.Bytes(), &e))
			epochs = append(epochs, e)
		default:
			t.Fatalf("unknown record %s", sc.Text())
		}
	}
	require.NoError(t, sc.Err())
	return steps, epochs
}

func TestRunWritesLinesMetricsAndCheckpoints(t *testing.T) {
	heavyOnRef(t)
	c := tinyConfig(t)
	c.CheckpointEverySteps = 3
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	res, out, err := runTiny(t, c, Options{Log: log, EstimateAfter: 2})
	require.NoError(t, err)

	// The seed's lines, exactly.
	ls := lines(out)
	require.Len(t, ls, 4, out)
	assert.Regexp(t, reTrainingOn, ls[0])
	assert.Regexp(t, reEpoch, ls[1])
	assert.Regexp(t, reEpoch, ls[2])
	assert.Regexp(t, reTotal, ls[3])
	assert.NotContains(t, logBuf.String(), "CPU device", "no run time estimate for a run of seconds (see TestCPUEstimateMessage)")

	// 256 images in batches of 32: 8 steps per epoch.
	assert.Equal(t, 16, res.Step)
	assert.Equal(t, int64(512), res.Images)
	require.Len(t, res.Epochs, 2)

	// Per-step records add up to the epoch figures.
	steps, epochs := readJSONL(t, c.MetricsJSONL)
	require.Len(t, steps, 16)
	require.Len(t, epochs, 2)
	for e := range 2 {
		var lossSum, secs float64
		correct, n := 0, 0
		for i, s := range steps[e*8 : (e+1)*8] {
			assert.Equal(t, e*8+i+1, s.Step)
			assert.Equal(t, e+1, s.Epoch)
			assert.Equal(t, i, s.Batch)
			lossSum += s.Loss * float64(s.Images)
			correct += s.Correct
			n += s.Images
			secs += s.Seconds
		}
		m := res.Epochs[e]
		assert.Equal(t, e+1, m.Epoch)
		assert.Equal(t, (e+1)*8, m.Step)
		assert.InDelta(t, lossSum/float64(n), m.Loss, 1e-12)
		assert.InDelta(t, float64(correct)/float64(n), m.TrainAcc, 0)
		assert.InDelta(t, secs, m.Seconds, 1e-9)
		assert.InDelta(t, float64(n)/secs, m.ImagesPerSec, 1e-6*m.ImagesPerSec)
		assert.GreaterOrEqual(t, m.TestAcc, 0.0)
		assert.LessOrEqual(t, m.TestAcc, 1.0)
		assert.Greater(t, m.TestLoss, 0.0)
		assert.True(t, finite(m.TestLoss), "test loss %v", m.TestLoss)
		assert.Equal(t, m, epochs[e])
	}
	assert.InDelta(t, res.Epochs[0].Seconds+res.Epochs[1].Seconds, res.TrainSeconds, 1e-9)

	// CSV, JSON and PNG beside each other.
	csvText, err := os.ReadFile(c.MetricsCSV)
	require.NoError(t, err)
	cl := lines(string(csvText))
	require.Len(t, cl, 3)
	assert.Equal(t, "epoch,step,loss,train_acc,test_loss,test_acc,seconds,images_per_sec", cl[0])
	assert.True(t, strings.HasPrefix(cl[2], "2,16,"), cl[2])
	assert.Equal(t, strconv.FormatFloat(res.Epochs[1].TestLoss, 'g', 8, 64), strings.Split(cl[2], ",")[4])
	var js []EpochMetrics
	b, err := os.ReadFile(filepath.Join(c.CheckpointDir, "metrics.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &js))
	assert.Equal(t, res.Epochs, js)
	f, err := os.Open(filepath.Join(c.CheckpointDir, "metrics.png"))
	require.NoError(t, err)
	img, err := png.Decode(f)
	f.Close()
	require.NoError(t, err)
	assert.Greater(t, img.Bounds().Dx(), 400)

	// Checkpoints every 3 steps and at the end of each epoch.
	var want []string
	for _, s := range []int64{3, 6, 8, 9, 12, 15, 16} {
		want = append(want, checkpoint.Name(s), strings.TrimSuffix(checkpoint.Name(s), ".safetensors")+".state.safetensors")
	}
	want = append(want, "config.yaml", "metrics.csv", "metrics.json", "metrics.jsonl", "metrics.png")
	assert.ElementsMatch(t, want, files(t, c.CheckpointDir))
	assert.Equal(t, filepath.Join(c.CheckpointDir, checkpoint.Name(16)), res.Checkpoint)

	// The last checkpoint: position after the last epoch, state of Adam step 16.
	params, meta, st, err := checkpoint.LoadCheckpoint(res.Checkpoint)
	require.NoError(t, err)
	assert.Equal(t, int64(16), st.Step)
	assert.Equal(t, 2, st.Epoch)
	assert.Equal(t, 0, st.Batch)
	assert.Equal(t, "alexnet", meta["architecture"])
	assert.Equal(t, "conv.0.weight", params[0].Name)
	assert.Equal(t, []int{6, 1, 11, 11}, params[0].Shape)
	stored, err := config.FromJSON(st.Config)
	require.NoError(t, err)
	assert.Equal(t, 65, stored.InputSize)
}

func TestKeepCheckpoints(t *testing.T) {
	heavyOnRef(t)
	c := narrowConfig(t)
	// keep_checkpoints' default: every epoch end (8, 16) and the two newest
	// of the checkpoints written every 2 steps (12, 14).
	c.CheckpointEverySteps, c.KeepCheckpoints, c.Quiet = 2, config.Default().KeepCheckpoints, true
	_, out, err := runTiny(t, c, Options{})
	require.NoError(t, err)
	require.Len(t, lines(out), 1, "quiet: only the final summary")
	assert.Regexp(t, reTotal, lines(out)[0])
	l, err := checkpoint.List(c.CheckpointDir)
	require.NoError(t, err)
	var want []string
	for _, s := range []int64{8, 12, 14, 16} {
		want = append(want, filepath.Join(c.CheckpointDir, checkpoint.Name(s)))
	}
	assert.Equal(t, want, l)
}

func TestResumeAtEpochBoundaryMatchesUninterrupted(t *testing.T) {
	heavyOnRef(t)
	full, _, err := runTiny(t, narrowConfig(t), Options{})
	require.NoError(t, err)

	c := narrowConfig(t)
	c.Epochs = 1
	first, _, err := runTiny(t, c, Options{})
	require.NoError(t, err)
	require.Equal(t, 8, first.Step)

	// Resume the run folder; epochs raised explicitly, everything else from
	// the checkpoint (the configuration given here has another lr and seed).
	c2 := narrowConfig(t)
	c2.CheckpointDir, c2.MetricsJSONL, c2.MetricsCSV = c.CheckpointDir, c.MetricsJSONL, c.MetricsCSV
	c2.Resume, c2.Epochs, c2.LR, c2.Seed = c.CheckpointDir, 2, 0.5, 99
	var logBuf bytes.Buffer
	res, out, err := runTiny(t, c2, Options{Explicit: map[string]bool{"epochs": true}, Log: slog.New(slog.NewTextHandler(&logBuf, nil))})
	require.NoError(t, err)
	assert.Contains(t, logBuf.String(), "lr = 0.001 from the checkpoint")
	ls := lines(out)
	require.Len(t, ls, 3, out)
	assert.Regexp(t, reTrainingOn, ls[0])
	assert.True(t, strings.HasPrefix(ls[1], "epoch 2 : "), ls[1])
	assert.Regexp(t, reTotal, ls[2])

	assert.Equal(t, 16, res.Step)
	assert.Equal(t, int64(512), res.Images)
	assert.InDelta(t, 0.001, res.Config.LR, 0)
	require.Len(t, res.Epochs, 2)
	for e := range 2 {
		assert.Equal(t, full.Epochs[e].Epoch, res.Epochs[e].Epoch)
		assert.Equal(t, full.Epochs[e].Step, res.Epochs[e].Step)
		assert.Equal(t, full.Epochs[e].Loss, res.Epochs[e].Loss, "epoch %d loss", e+1)
		assert.Equal(t, full.Epochs[e].TrainAcc, res.Epochs[e].TrainAcc)
		assert.Equal(t, full.Epochs[e].TestAcc, res.Epochs[e].TestAcc)
	}
	// The step records continue the numbering.
	steps, _ := readJSONL(t, c.MetricsJSONL)
	require.Len(t, steps, 16)
	assert.Equal(t, 9, steps[8].Step)
	assert.Equal(t, 2, steps[8].Epoch)
	// The metrics files hold both epochs.
	csvText, err := os.ReadFile(c.MetricsCSV)
	require.NoError(t, err)
	assert.Len(t, lines(string(csvText)), 3)
}

func TestInterruptSavesAndResumesMidEpoch(t *testing.T) {
	heavyOnRef(t)
	full, _, err := runTiny(t, narrowConfig(t), Options{})
	require.NoError(t, err)

	c := narrowConfig(t)
	c.CheckpointEverySteps = 4
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	_, err = Run(ctx, Options{Config: c, Out: &out, TrainSet: synthSet(1, 256), TestSet: synthSet(2, 128),
		BeforeStep: func(step int, _ *graph.Plan) error {
			if step == 11 {
				cancel() // a signal arriving during step 11: it still completes
			}
			return nil
		}})
	var ie *InterruptedError
	require.ErrorAs(t, err, &ie)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 11, ie.Step)
	assert.Equal(t, 2, ie.Epoch)
	assert.Equal(t, 3, ie.Batch)
	assert.Equal(t, filepath.Join(c.CheckpointDir, checkpoint.Name(11)), ie.Checkpoint)
	assert.Contains(t, err.Error(), "crossgrad train --resume "+c.CheckpointDir)
	assert.Len(t, lines(out.String()), 2, "training on + epoch 1")

	c.Resume = c.CheckpointDir
	res, out2, err := runTiny(t, c, Options{})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(lines(out2)[1], "epoch 2 : "), out2)
	assert.Equal(t, 16, res.Step)
	require.Len(t, res.Epochs, 2)
	for e := range 2 {
		assert.Equal(t, full.Epochs[e].Loss, res.Epochs[e].Loss, "epoch %d loss", e+1)
		assert.Equal(t, full.Epochs[e].TrainAcc, res.Epochs[e].TrainAcc)
		assert.Equal(t, full.Epochs[e].TestAcc, res.Epochs[e].TestAcc)
	}
	files(t, c.CheckpointDir) // no temporary files

	// Resuming an older, mid-epoch checkpoint of the folder (written every 4
	// steps) replays the same steps and drops the step records of the
	// abandoned continuation.
	res, _, err = runTiny(t, c, Options{})
	require.NoError(t, err)
	assert.Equal(t, 16, res.Step, "a finished run resumes to nothing")
	c.Resume = filepath.Join(c.CheckpointDir, checkpoint.Name(4))
	res, _, err = runTiny(t, c, Options{})
	require.NoError(t, err)
	assert.Equal(t, 16, res.Step)
	for e := range 2 {
		assert.Equal(t, full.Epochs[e].Loss, res.Epochs[e].Loss, "epoch %d loss", e+1)
	}
	steps, epochs := readJSONL(t, c.MetricsJSONL)
	require.Len(t, steps, 16)
	require.Len(t, epochs, 2)
	for i, s := range steps {
		assert.Equal(t, i+1, s.Step)
	}
}

func TestNaNLossStopsWithStepAndStats(t *testing.T) {
	c := narrowConfig(t)
	_, _, err := runTiny(t, c, Options{BeforeStep: func(step int, p *graph.Plan) error {
		if step != 3 {
			return nil
		}
		ps, err := p.ReadParams()
		if err != nil {
			return err
		}
		ps[len(ps)-1].Data[5] = float32(math.NaN()) // fc.6.bias: no ReLU hides it
		return p.LoadParams(ps)
	}})
	var ne *NonFiniteError
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, 3, ne.Step)
	assert.Equal(t, 1, ne.Epoch)
	assert.Equal(t, 2, ne.Batch)
	assert.NoError(t, ne.StatsErr)
	msg := err.Error()
	assert.Contains(t, msg, "loss is NaN at step 3")
	for _, name := range []string{"conv.0.weight", "conv.0.weight.grad", "fc.6.bias", "act.input", "act.conv.0", "act.fc.6"} {
		assert.Regexp(t, `(?m)^  `+regexp.QuoteMeta(name)+` +\d+ `, msg)
	}
	byName := map[string]TensorStats{}
	for _, s := range ne.Stats {
		byName[s.Name] = s
	}
	assert.Equal(t, 32, byName["act.fc.6"].NaN, "logit 5 of every image")
	assert.Positive(t, byName["fc.6.bias"].NaN)
	assert.Zero(t, byName["act.input"].NaN)
	assert.Equal(t, 32*65*65, byName["act.input"].N)
	assert.GreaterOrEqual(t, byName["act.input"].Min, 0.0)
	assert.LessOrEqual(t, byName["act.input"].Max, 1.0)
	// No checkpoint; the two finished steps are recorded, whole.
	assert.Equal(t, []string{"config.yaml", "metrics.jsonl"}, files(t, c.CheckpointDir))
	steps, _ := readJSONL(t, c.MetricsJSONL)
	assert.Len(t, steps, 2)
}

func TestErrorsBeforeTrainingLeaveNoFiles(t *testing.T) {
	c := tinyConfig(t)
	c.DataDir = filepath.Join(t.TempDir(), "no-such-dir")
	_, err := Run(context.Background(), Options{Config: c})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dataset-fashion-mnist")
	assert.NoDirExists(t, c.CheckpointDir)

	c = tinyConfig(t)
	c.Backend = []string{"opencl:nosuch", "vulkan:nosuch"}
	_, _, err = runTiny(t, c, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `backend "opencl:nosuch"`)
	assert.Contains(t, err.Error(), `backend "vulkan:nosuch"`)
	assert.NoDirExists(t, c.CheckpointDir)
}

func TestBackendFallbackIsLogged(t *testing.T) {
	heavyOnRef(t)
	c := narrowConfig(t)
	c.Backend, c.Epochs = []string{"vulkan:nosuch", "ref"}, 1
	var logBuf bytes.Buffer
	res, _, err := runTiny(t, c, Options{Log: slog.New(slog.NewTextHandler(&logBuf, nil))})
	require.NoError(t, err)
	assert.Equal(t, "pure-Go reference (ref:0)", res.Device)
	assert.Contains(t, logBuf.String(), `backend \"vulkan:nosuch\" skipped`)
	assert.Contains(t, logBuf.String(), "using fallback device")
	assert.Contains(t, logBuf.String(), "reason=")
}

func TestResumeRejectsOtherShape(t *testing.T) {
	heavyOnRef(t)
	c := tinyConfig(t)
	c.Epochs = 1
	_, _, err := runTiny(t, c, Options{})
	require.NoError(t, err)
	before := files(t, c.CheckpointDir)

	c.Resume, c.InputSize = c.CheckpointDir, 97
	_, _, err = runTiny(t, c, Options{Explicit: map[string]bool{"input_size": true}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tensor fc.0.weight has shape [256 16]")
	assert.Contains(t, err.Error(), "expects [256 64]")
	assert.Equal(t, before, files(t, c.CheckpointDir))

	_, err = ResolveCheckpoint(t.TempDir())
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestEvaluateCheckpoint(t *testing.T) {
	heavyOnRef(t)
	c := tinyConfig(t)
	c.Epochs = 1
	res, _, err := runTiny(t, c, Options{})
	require.NoError(t, err)

	// The evaluation configuration does not know the model shape: it comes
	// from the checkpoint.
	ec := config.Default()
	ec.Backend, ec.BatchSize, ec.TestLimit = []string{"ref"}, 50, 0
	rep, err := EvalCheckpoint(context.Background(), EvalOptions{Config: ec, Checkpoint: c.CheckpointDir, TestSet: synthSet(2, 128)})
	require.NoError(t, err)
	assert.Equal(t, 128, rep.N)
	assert.Equal(t, res.Epochs[0].TestAcc, rep.Accuracy())
	total, diag := 0, 0
	for t2 := range 10 {
		for p := range 10 {
			total += rep.Confusion[t2][p]
		}
		diag += rep.Confusion[t2][t2]
	}
	assert.Equal(t, 128, total)
	assert.Equal(t, rep.Correct, diag)
	var b bytes.Buffer
	require.NoError(t, rep.Format(&b))
	text := b.String()
	assert.Contains(t, text, "confusion matrix")
	assert.Contains(t, text, "Ankle boot")
	assert.Contains(t, text, "T-shirt/top")

	// A limit evaluates the first images only.
	ec.TestLimit = 40
	rep, err = EvalCheckpoint(context.Background(), EvalOptions{Config: ec, Checkpoint: res.Checkpoint, TestSet: synthSet(2, 128)})
	require.NoError(t, err)
	assert.Equal(t, 40, rep.N)

	// Another width, set explicitly: rejected, naming tensor and shapes.
	ec.Width = 0.125
	_, err = EvalCheckpoint(context.Background(), EvalOptions{Config: ec, Explicit: map[string]bool{"width": true},
		Checkpoint: res.Checkpoint, TestSet: synthSet(2, 128)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tensor conv.0.weight has shape [6 1 11 11]")
	assert.Contains(t, err.Error(), "expects [12 1 11 11]")

	// A checkpoint of another architecture (extra or missing tensors).
	ts, _, err := checkpoint.Load(res.Checkpoint)
	require.NoError(t, err)
	other := filepath.Join(t.TempDir(), "other.safetensors")
	require.NoError(t, checkpoint.Save(other, append(ts, checkpoint.Tensor{Name: "fc.9.weight", Shape: []int{2}, Data: []float32{1, 2}}), nil))
	_, err = EvalCheckpoint(context.Background(), EvalOptions{Config: tinyConfig(t), Checkpoint: other, TestSet: synthSet(2, 128)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "fc.9.weight")
	require.NoError(t, checkpoint.Save(other, ts[2:], nil))
	_, err = EvalCheckpoint(context.Background(), EvalOptions{Config: tinyConfig(t), Checkpoint: other, TestSet: synthSet(2, 128)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "has no tensor conv.0.weight")
}

func TestRealDataWithLimits(t *testing.T) {
	heavyOnRef(t)
	if _, err := os.Stat("/usr/share/datasets/fashion-mnist"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but dataset-fashion-mnist is not installed (make setup installs it)")
		}
		t.Skip("dataset-fashion-mnist not installed")
	}
	c := narrowConfig(t)
	c.Epochs, c.TrainLimit, c.TestLimit = 1, 256, 128
	var out bytes.Buffer
	res, err := Run(context.Background(), Options{Config: c, Out: &out})
	require.NoError(t, err)
	assert.Equal(t, 8, res.Step)
	assert.Len(t, lines(out.String()), 3)
}

func TestStatsOf(t *testing.T) {
	s := StatsOf("x", []float32{1, -2, float32(math.NaN()), float32(math.Inf(1)), 4})
	assert.Equal(t, TensorStats{Name: "x", N: 5, Min: -2, Max: 4, Mean: 1, NaN: 1, Inf: 1}, s)
	s = StatsOf("y", []float32{float32(math.NaN())})
	assert.True(t, math.IsNaN(s.Mean))
	assert.Equal(t, 1, s.NaN)
}

func TestInterruptedErrorUnwrap(t *testing.T) {
	e := &InterruptedError{Cause: context.Canceled}
	assert.True(t, errors.Is(e, context.Canceled))
}

func TestMinuteCadence(t *testing.T) {
	heavyOnRef(t)
	c := narrowConfig(t)
	c.Epochs, c.CheckpointEveryMinutes = 1, 1e-7 // 6 us: after every step
	_, _, err := runTiny(t, c, Options{})
	require.NoError(t, err)
	l, err := checkpoint.List(c.CheckpointDir)
	require.NoError(t, err)
	assert.Len(t, l, 8)
}

func TestResumeOfAFinishedRunSaysSo(t *testing.T) {
	heavyOnRef(t)
	c := tinyConfig(t)
	c.Epochs, c.TrainLimit, c.TestLimit = 1, 64, 32
	first, _, err := runTiny(t, c, Options{})
	require.NoError(t, err)
	before := files(t, c.CheckpointDir)

	var logBuf bytes.Buffer
	c.Resume = c.CheckpointDir
	res, _, err := runTiny(t, c, Options{Log: slog.New(slog.NewTextHandler(&logBuf, nil))})
	require.NoError(t, err)
	assert.Equal(t, first.Step, res.Step, "nothing trained")
	assert.Contains(t, logBuf.String(), "has finished all 1 epochs: nothing to train (give --epochs 2 or more to train further)")
	assert.Equal(t, before, files(t, c.CheckpointDir))
}
