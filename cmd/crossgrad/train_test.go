package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const fashionDir = "/usr/share/datasets/fashion-mnist"

// execute runs the CLI with args and returns stdout, stderr and the error.
func execute(t *testing.T, ctx context.Context, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// tinyArgs is a small training run on the reference backend: input 65,
// width 1/16, batch 32, 256 training and 128 test images.
func tinyArgs(dir string, extra ...string) []string {
	return append([]string{"train", "--backend", "ref", "--input-size", "65", "--width", "0.0625", "--batch-size", "32",
		"--train-limit", "256", "--test-limit", "128", "--checkpoint-dir", dir, "--checkpoint-every-minutes", "0"}, extra...)
}

func needData(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(fashionDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but dataset-fashion-mnist is not installed (make setup installs it)")
		}
		t.Skip("dataset-fashion-mnist is not installed")
	}
}

var (
	reEpochLine = regexp.MustCompile(`^epoch (\d+) : loss \d+\.\d{3}, train acc [01]\.\d{3}, test acc [01]\.\d{3}$`)
	reTotalLine = regexp.MustCompile(`^total training time \d+\.\d{2}, \d+\.\d images/sec on pure-Go reference \(ref:0\)$`)
)

func outLines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

func TestTrainResumeEvalCLI(t *testing.T) {
	needData(t)
	dir := filepath.Join(t.TempDir(), "run")
	out, errOut, err := execute(t, context.Background(), tinyArgs(dir, "--epochs", "1")...)
	require.NoError(t, err, errOut)
	ls := outLines(out)
	require.Len(t, ls, 3, out)
	assert.Equal(t, "training on pure-Go reference (ref:0)", ls[0])
	assert.Regexp(t, reEpochLine, ls[1])
	assert.True(t, strings.HasPrefix(ls[1], "epoch 1 : "))
	assert.Regexp(t, reTotalLine, ls[2])
	assert.NotContains(t, errOut, "is a CPU device", "no run time warning for a run of seconds")
	for _, f := range []string{"ckpt-000000008.safetensors", "ckpt-000000008.state.safetensors", "metrics.csv", "metrics.json", "metrics.jsonl", "metrics.png"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}

	// Resume the run folder for a second epoch: the model shape, batch size
	// and limits come from the checkpoint, the run continues in its folder.
	out, errOut, err = execute(t, context.Background(), "train", "--backend", "ref", "--resume", dir, "--epochs", "2")
	require.NoError(t, err, errOut)
	ls = outLines(out)
	require.Len(t, ls, 3, out)
	assert.True(t, strings.HasPrefix(ls[1], "epoch 2 : "), ls[1])
	assert.Contains(t, errOut, "input_size = 65 from the checkpoint")
	assert.FileExists(t, filepath.Join(dir, "ckpt-000000016.safetensors"))
	csv, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	require.NoError(t, err)
	assert.Len(t, outLines(string(csv)), 3)

	// Evaluate it.
	out, errOut, err = execute(t, context.Background(), "eval", "--checkpoint", dir, "--backend", "ref", "--limit", "64")
	require.NoError(t, err, errOut)
	assert.Regexp(t, `(?m)^test acc [01]\.\d{3} \(\d+/64\), loss \d+\.\d{3}$`, out)
	for _, name := range []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"} {
		assert.Contains(t, out, name)
	}
	assert.Contains(t, out, "confusion matrix (rows: true class, columns: predicted class)")
	assert.Contains(t, out, "ckpt-000000016.safetensors")

	// The same report as JSON.
	out, errOut, err = execute(t, context.Background(), "eval", "--checkpoint", dir, "--device", "ref", "--test-limit", "64", "--json")
	require.NoError(t, err, errOut)
	var rep evalJSON
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.Equal(t, 64, rep.Images)
	assert.InDelta(t, float64(rep.Correct)/64, rep.Accuracy, 1e-12)
	assert.Equal(t, "pure-Go reference (ref:0)", rep.Device)
	assert.Contains(t, rep.Checkpoint, "ckpt-000000016.safetensors")
	assert.NotEmpty(t, rep.Model)
	assert.Positive(t, rep.Seconds)
	require.Len(t, rep.Classes, 10)
	require.Len(t, rep.Confusion, 10)
	images := 0
	for i, c := range rep.Classes {
		assert.Equal(t, i, c.Class)
		assert.Equal(t, rep.Confusion[i][i], c.Correct)
		images += c.Images
	}
	assert.Equal(t, 64, images)
	assert.Equal(t, "Trouser", rep.Classes[1].Name)

	// A model of another shape is rejected, naming the tensor and both shapes.
	_, _, err = execute(t, context.Background(), "eval", "--checkpoint", dir, "--backend", "ref", "--width", "0.125", "--limit", "32")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tensor conv.0.weight has shape [6 1 11 11]")
	assert.Contains(t, err.Error(), "expects [12 1 11 11]")
}

func TestTrainInterruptedCLI(t *testing.T) {
	needData(t)
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // as if SIGINT arrived before the first step
	out, _, err := execute(t, ctx, tinyArgs(dir, "--epochs", "1")...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "crossgrad train --resume "+dir)
	assert.Equal(t, "training on pure-Go reference (ref:0)\n", out)
	assert.FileExists(t, filepath.Join(dir, "ckpt-000000000.safetensors"))
}

func TestTrainConfigErrorsCLI(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("epochs: 2\nbogus_key: 1\n"), 0o644))
	_, _, err := execute(t, context.Background(), "train", "--config", bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown key(s) bogus_key")

	dir := filepath.Join(t.TempDir(), "run")
	_, _, err = execute(t, context.Background(), tinyArgs(dir, "--data-dir", filepath.Join(t.TempDir(), "nothing"))...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dataset-fashion-mnist")
	assert.NoDirExists(t, dir, "no files on errors before training")

	_, _, err = execute(t, context.Background(), "train", "--batch-size", "0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "batch_size")

	_, _, err = execute(t, context.Background(), "eval")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--checkpoint is required")
}

func TestSummaryCLI(t *testing.T) {
	out, _, err := execute(t, context.Background(), "summary")
	require.NoError(t, err)
	assert.Contains(t, out, "Total params: 46,764,746")
	assert.Regexp(t, `conv\.0 \(Conv2d\) +\[-1, 96, 54, 54\] +11,712`, out)

	out, _, err = execute(t, context.Background(), "summary", "--config", "cpu-quick", "--memory")
	require.NoError(t, err)
	assert.Regexp(t, `conv\.0 \(Conv2d\) +\[-1, 48, 15, 15\]`, out)
	assert.NotContains(t, out, "46,764,746")
	assert.Contains(t, out, "Training plan at batch 128")

	_, _, err = execute(t, context.Background(), "summary", "--input-size", "64")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "input_size")
}

func TestExplicitKeys(t *testing.T) {
	cmd := newTrainCmd()
	require.NoError(t, cmd.Flags().Parse([]string{"--width", "0.5", "--config", "cpu-quick"}))
	got := explicitKeys(cmd.Flags(), []string{"CROSSGRAD_LR=0.01", "CROSSGRAD_NOPE=1", "HOME=/root", "CROSSGRAD_CONFIG=x"})
	assert.Equal(t, map[string]bool{"width": true, "lr": true}, got)
}
