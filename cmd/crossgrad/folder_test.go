package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/config"
)

// steps lists the steps of the checkpoints in dir.
func steps(t *testing.T, dir string) []int {
	t.Helper()
	l, err := checkpoint.List(dir)
	require.NoError(t, err)
	var out []int
	for _, p := range l {
		_, _, st, err := checkpoint.LoadCheckpoint(p)
		require.NoError(t, err)
		out = append(out, int(st.Step))
	}
	return out
}

// TestRunFolderOwnershipCLI: a second train on a folder being written is
// refused naming the writer; after kill -9 the printed resume command alone
// continues with every setting of the run (backend, cadence, metrics file,
// kept checkpoints); a fresh train into the finished run's folder is refused
// unless --force.
func TestRunFolderOwnershipCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	custom := filepath.Join(t.TempDir(), "steps.jsonl")
	a := start(t, nil, procArgs(t, dir, "--epochs", "2", "--checkpoint-every-steps", "4", "--metrics-jsonl", custom)...)
	a.waitSaved(t, 4)

	b := start(t, nil, procArgs(t, dir)...)
	require.Equal(t, 1, b.wait(t), b.errText())
	assert.Contains(t, b.errText(), fmt.Sprintf("the run folder %s is in use by process %d ", dir, a.cmd.Process.Pid))
	assert.Empty(t, b.stdout.String(), "refused before training")

	require.NoError(t, a.cmd.Process.Signal(syscall.SIGKILL))
	require.Equal(t, -1, a.wait(t), "killed mid-run")

	c := start(t, nil, "train", "--resume", dir)
	require.Equal(t, 0, c.wait(t), c.errText())
	assert.Regexp(t, `(?m)^training on pure-Go reference \(ref:0\)$`, c.stdout.String(), "the run's backend")
	assert.Contains(t, c.errText(), "checkpoint_every_steps = 4 from the checkpoint")
	assert.Contains(t, c.errText(), `metrics_jsonl = "`+custom+`" from the checkpoint`)
	// Epoch ends and the two newest checkpoints of the 4-step cadence.
	assert.Equal(t, []int{64, 120, 124, 128}, steps(t, dir))
	b2, err := os.ReadFile(custom)
	require.NoError(t, err)
	recs := regexp.MustCompile(`"kind":"step","step":(\d+)`).FindAllStringSubmatch(string(b2), -1)
	require.Len(t, recs, 2*procSteps)
	for i, m := range recs {
		require.Equal(t, strconv.Itoa(i+1), m[1])
	}
	assert.NoFileExists(t, filepath.Join(dir, "metrics.jsonl"))

	d := start(t, nil, procArgs(t, dir)...)
	require.Equal(t, 1, d.wait(t), d.errText())
	assert.Contains(t, d.errText(), "crossgrad: train: "+dir+" already holds a run (")
	assert.Contains(t, d.errText(), "continue it with --resume "+dir+", or choose a new folder")
	assert.Equal(t, []int{64, 120, 124, 128}, steps(t, dir))

	e := start(t, nil, procArgs(t, dir, "--train-limit", "64", "--force")...)
	require.Equal(t, 0, e.wait(t), e.errText())
	assert.Contains(t, e.errText(), "--force: deleting 12 files of the previous run: "+filepath.Join(dir, checkpoint.Name(64))+", ")
	assert.Equal(t, []int{8}, steps(t, dir))
	cfg, err := config.Load(filepath.Join(dir, "config.yaml"), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, 64, cfg.TrainLimit)
	assert.Equal(t, []string{"ref"}, cfg.Backend)
	assert.Equal(t, filepath.Join(dir, "metrics.jsonl"), cfg.MetricsJSONL)
	noTemps(t, dir)
}

// TestOutputsCheckedBeforeTrainingCLI: a metrics path that is a folder is
// refused before the first step, naming the key.
func TestOutputsCheckedBeforeTrainingCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	folder := t.TempDir()
	out, _, err := execute(t, t.Context(), procArgs(t, dir, "--metrics-csv", folder)...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "metrics_csv = "+folder+": "+folder+" is a folder; give a file path such as "+filepath.Join(folder, "metrics.csv"))
	assert.Empty(t, out, "nothing trained")
	assert.NoDirExists(t, dir)
}
