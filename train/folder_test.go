package train

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/graph"
)

// runSmall trains c on 64 synthetic training images (2 steps per epoch at
// batch 32) and 32 test images, logging into the returned buffer.
func runSmall(t *testing.T, ctx context.Context, c config.Config, o Options) (*Result, *bytes.Buffer, error) {
	t.Helper()
	var logBuf bytes.Buffer
	o.Config, o.Log = c, slog.New(slog.NewTextHandler(&logBuf, nil))
	o.TrainSet, o.TestSet = synthSet(1, 64), synthSet(2, 32)
	res, err := Run(ctx, o)
	return res, &logBuf, err
}

// ckptList is checkpoint.List of dir, as step numbers.
func ckptList(t *testing.T, dir string) []int64 {
	t.Helper()
	l, err := checkpoint.List(dir)
	require.NoError(t, err)
	var out []int64
	for _, p := range l {
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "ckpt-"), ".safetensors"), 10, 64)
		require.NoError(t, err)
		out = append(out, n)
	}
	return out
}

func TestRunFolderIsLockedByOneProcess(t *testing.T) {
	c := tinyConfig(t)
	held, err := lockRunDir(c.CheckpointDir)
	require.NoError(t, err)
	pid := strconv.Itoa(os.Getpid())
	b, err := os.ReadFile(filepath.Join(c.CheckpointDir, LockFile))
	require.NoError(t, err)
	assert.Equal(t, pid+"\n", string(b))

	stepped := false
	_, _, err = runSmall(t, context.Background(), c, Options{BeforeStep: func(int, *graph.Plan) error { stepped = true; return nil }})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the run folder "+c.CheckpointDir+" is in use by process "+pid+" ")
	assert.False(t, stepped)
	assert.FileExists(t, filepath.Join(c.CheckpointDir, LockFile), "the refused run leaves the holder's lock alone")

	// Released, the lock file goes, and with it the folder made for it.
	held.release()
	assert.NoDirExists(t, c.CheckpointDir)

	// A lock file left by a killed process (no flock on it) does not block.
	require.NoError(t, os.MkdirAll(c.CheckpointDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(c.CheckpointDir, LockFile), []byte("999999999\n"), 0o644))
	held, err = lockRunDir(c.CheckpointDir)
	require.NoError(t, err)
	b, err = os.ReadFile(filepath.Join(c.CheckpointDir, LockFile))
	require.NoError(t, err)
	assert.Equal(t, pid+"\n", string(b))
	held.release()
	assert.DirExists(t, c.CheckpointDir, "a folder this process did not make stays")
	assert.Empty(t, files(t, c.CheckpointDir))
}

func TestFolderHoldingARunIsRefusedUnlessForced(t *testing.T) {
	heavyOnRef(t)
	c := tinyConfig(t)
	c.Epochs, c.CheckpointEverySteps = 1, 1
	res, _, err := runSmall(t, context.Background(), c, Options{})
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 2}, ckptList(t, c.CheckpointDir))

	// config.yaml loads back to the run's configuration.
	loaded, err := config.Load(filepath.Join(c.CheckpointDir, ConfigFile), nil, nil)
	require.NoError(t, err)
	want := res.Config
	want.Source, loaded.Source = "", ""
	assert.Equal(t, want, loaded)

	before := files(t, c.CheckpointDir)
	fresh := c
	fresh.CheckpointEverySteps = 0
	_, _, err = runSmall(t, context.Background(), fresh, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "train: "+c.CheckpointDir+" already holds a run (")
	assert.Contains(t, err.Error(), "continue it with --resume "+c.CheckpointDir+", or choose a new folder")
	assert.Equal(t, before, files(t, c.CheckpointDir), "nothing touched")

	// --force says what it deletes; only the new run's files remain.
	_, logBuf, err := runSmall(t, context.Background(), fresh, Options{Force: true})
	require.NoError(t, err)
	assert.Contains(t, logBuf.String(), "--force: deleting 9 files of the previous run: ")
	assert.Contains(t, logBuf.String(), checkpoint.Name(1))
	assert.Equal(t, []int64{2}, ckptList(t, c.CheckpointDir))
	loaded, err = config.Load(filepath.Join(c.CheckpointDir, ConfigFile), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, loaded.CheckpointEverySteps)

	// A folder left by a run that saved no checkpoint: nothing to resume.
	other := tinyConfig(t)
	require.NoError(t, os.MkdirAll(other.CheckpointDir, 0o755))
	require.NoError(t, os.WriteFile(other.MetricsJSONL, []byte("{}\n"), 0o644))
	_, _, err = runSmall(t, context.Background(), other, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "train: the outputs of this run hold files of an earlier run that saved no checkpoint ("+other.MetricsJSONL+"); choose a new folder (or other metric paths), or pass --force")
}

func TestResumeTakesEveryRunSetting(t *testing.T) {
	heavyOnRef(t)
	c := narrowConfig(t)
	// 96 images: 3 steps per epoch; two epochs, stopped after step 1.
	custom := filepath.Join(t.TempDir(), "elsewhere", "steps.jsonl")
	c.CheckpointEverySteps, c.KeepCheckpoints, c.MetricsJSONL, c.MetricsCSV = 1, 1, custom, ""
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := Options{TrainSet: synthSet(1, 96), TestSet: synthSet(2, 32), BeforeStep: func(step int, _ *graph.Plan) error {
		if step == 1 {
			cancel()
		}
		return nil
	}}
	o.Config = c
	_, err := Run(ctx, o)
	var ie *InterruptedError
	require.ErrorAs(t, err, &ie)
	require.Equal(t, 1, ie.Step)

	// The run was made on another device (as if on a GPU).
	params, meta, st, err := checkpoint.LoadCheckpoint(ie.Checkpoint)
	require.NoError(t, err)
	delete(meta, checkpoint.MetaStep)
	delete(meta, checkpoint.MetaChecksum)
	st.Extra[extraDevice] = "Fake GPU (vulkan:0)"
	require.NoError(t, checkpoint.SaveCheckpoint(ie.Checkpoint, params, meta, st))

	// The hint's command: only --resume; this configuration says otherwise
	// about cadence, kept checkpoints, metrics and folder.
	r := narrowConfig(t)
	r.Resume = c.CheckpointDir
	var logBuf bytes.Buffer
	res, err := Run(context.Background(), Options{Config: r, Log: slog.New(slog.NewTextHandler(&logBuf, nil)),
		TrainSet: synthSet(1, 96), TestSet: synthSet(2, 32)})
	require.NoError(t, err)
	log := logBuf.String()
	assert.Equal(t, 6, res.Step)
	assert.Equal(t, c.CheckpointDir, res.Config.CheckpointDir)
	assert.Equal(t, 1, res.Config.CheckpointEverySteps)
	assert.Equal(t, 1, res.Config.KeepCheckpoints)
	assert.Equal(t, custom, res.Config.MetricsJSONL)
	assert.Empty(t, res.Config.MetricsCSV)
	assert.Contains(t, log, "checkpoint_every_steps = 1 from the checkpoint (configuration says 0)")
	assert.Contains(t, log, `level=WARN msg="the run was trained on Fake GPU (vulkan:0) and now continues on pure-Go reference (ref:0) (backend ref)`)

	// A checkpoint every step, epoch ends (3, 6) and the newest other one
	// (5) kept; every step in the run's own metrics file, none elsewhere.
	assert.Equal(t, []int64{3, 5, 6}, ckptList(t, c.CheckpointDir))
	steps, epochs := readJSONL(t, custom)
	require.Len(t, steps, 6)
	for i, s := range steps {
		assert.Equal(t, i+1, s.Step)
	}
	assert.Len(t, epochs, 2)
	assert.NoFileExists(t, filepath.Join(c.CheckpointDir, "metrics.jsonl"))
	assert.NoFileExists(t, filepath.Join(c.CheckpointDir, "metrics.csv"))
	assert.NoDirExists(t, r.CheckpointDir, "the configuration's folder is not used")
	loaded, err := config.Load(filepath.Join(c.CheckpointDir, ConfigFile), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, custom, loaded.MetricsJSONL)
	assert.Equal(t, c.CheckpointDir, loaded.Resume)

	// Explicit values win: no warning for cadence, which is not the
	// trajectory.
	r.Epochs, r.CheckpointEverySteps = 3, 0
	logBuf.Reset()
	res, err = Run(context.Background(), Options{Config: r, Explicit: map[string]bool{"epochs": true, "checkpoint_every_steps": true},
		Log: slog.New(slog.NewTextHandler(&logBuf, nil)), TrainSet: synthSet(1, 96), TestSet: synthSet(2, 32)})
	require.NoError(t, err)
	assert.Equal(t, 9, res.Step)
	assert.Equal(t, []int64{3, 5, 6, 9}, ckptList(t, c.CheckpointDir))
	assert.Contains(t, logBuf.String(), `level=INFO msg="checkpoint_every_steps = 0 set explicitly; the checkpoint was made with 1"`)
	assert.Contains(t, logBuf.String(), `level=WARN msg="epochs = 3 set explicitly; the checkpoint was made with 2"`)
	assert.NotContains(t, logBuf.String(), "Fake GPU", "the last checkpoint was made here")
}

func TestOutputsAreCheckedBeforeStepOne(t *testing.T) {
	notFolder := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(notFolder, nil, 0o644))
	for _, tc := range []struct {
		name string
		set  func(c *config.Config) string // the message wanted
	}{
		{"csv is a folder", func(c *config.Config) string {
			c.MetricsCSV = t.TempDir()
			return fmt.Sprintf("train: metrics_csv = %s: %[1]s is a folder; give a file path such as %s, or off", c.MetricsCSV, filepath.Join(c.MetricsCSV, "metrics.csv"))
		}},
		{"png beside the csv is a folder", func(c *config.Config) string {
			d := t.TempDir()
			c.MetricsCSV = filepath.Join(d, "m.csv")
			png := filepath.Join(d, "m.png")
			require.NoError(t, os.Mkdir(png, 0o755))
			return fmt.Sprintf("train: metrics_csv = %s (%s beside it): %[2]s is a folder", c.MetricsCSV, png)
		}},
		{"jsonl is a folder", func(c *config.Config) string {
			c.MetricsJSONL = t.TempDir()
			return fmt.Sprintf("train: metrics_jsonl = %s: %[1]s is a folder", c.MetricsJSONL)
		}},
		{"jsonl under a file", func(c *config.Config) string {
			c.MetricsJSONL = filepath.Join(notFolder, "m.jsonl")
			return fmt.Sprintf("train: metrics_jsonl = %s: %s is a file, not a folder", c.MetricsJSONL, notFolder)
		}},
		{"checkpoint_dir is empty", func(c *config.Config) string {
			c.CheckpointDir = ""
			return "train: checkpoint_dir is empty; set a folder"
		}},
		{"checkpoint_dir is a file", func(c *config.Config) string {
			c.CheckpointDir = notFolder
			return fmt.Sprintf("train: checkpoint_dir = %s: %[1]s is a file, not a folder", notFolder)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tinyConfig(t)
			dir := c.CheckpointDir
			want := tc.set(&c)
			stepped := false
			_, _, err := runSmall(t, context.Background(), c, Options{BeforeStep: func(int, *graph.Plan) error { stepped = true; return nil }})
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
			assert.False(t, stepped, "refused before step 1")
			assert.NoDirExists(t, dir, "nothing created")
		})
	}
}

func TestMetricsFailureCostsNoCheckpoint(t *testing.T) {
	heavyOnRef(t)
	c := tinyConfig(t)
	// The CSV path turns into a folder after the start-up check.
	_, logBuf, err := runSmall(t, context.Background(), c, Options{BeforeStep: func(step int, _ *graph.Plan) error {
		if step == 1 {
			return os.MkdirAll(c.MetricsCSV, 0o755)
		}
		return nil
	}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "train: training finished and its checkpoints are saved (last: "+filepath.Join(c.CheckpointDir, checkpoint.Name(4))+"), but metrics could not be written: ")
	assert.Contains(t, err.Error(), c.MetricsCSV)
	assert.Equal(t, []int64{2, 4}, ckptList(t, c.CheckpointDir), "both epochs' checkpoints")
	assert.Equal(t, 2, strings.Count(logBuf.String(), `level=ERROR msg="writing metrics failed; training goes on and checkpoints are still saved"`), "once per epoch: %s", logBuf.String())
	steps, epochs := readJSONL(t, c.MetricsJSONL)
	assert.Len(t, steps, 4)
	assert.Len(t, epochs, 2)
}

func TestSaveFailureNamesCheckpointsOnce(t *testing.T) {
	heavyOnRef(t)
	c := tinyConfig(t)
	c.CheckpointEverySteps = 1
	failing := filepath.Join(c.CheckpointDir, checkpoint.Name(3))
	_, _, err := runSmall(t, context.Background(), c, Options{BeforeStep: func(step int, _ *graph.Plan) error {
		if step == 3 { // the state file cannot replace a folder
			return os.Mkdir(checkpoint.StatePath(failing), 0o755)
		}
		return nil
	}})
	require.Error(t, err)
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, "train: saving checkpoint "+failing+" failed: save "+checkpoint.StatePath(failing)+": "), msg)
	assert.NotContains(t, msg, "checkpoint: checkpoint:")
	assert.NotContains(t, msg, "failed: checkpoint:")
	assert.True(t, strings.HasSuffix(msg, "; last checkpoint written: "+filepath.Join(c.CheckpointDir, checkpoint.Name(2))+
		" (resume with: crossgrad train --resume "+c.CheckpointDir+")"), msg)
	assert.Equal(t, []int64{1, 2}, ckptList(t, c.CheckpointDir))
}
