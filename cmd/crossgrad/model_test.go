package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/bench"
	"github.com/crossgrad/crossgrad/checkpoint"
)

// TestSummaryModelCLI: summary --model vgg11 prints d2l.ai's VGG-11 with
// 43,093,322 parameters; an unknown model is refused listing the known
// ones, and each model refuses an input below its own minimum.
func TestSummaryModelCLI(t *testing.T) {
	out, _, err := execute(t, context.Background(), "summary", "--model", "vgg11")
	require.NoError(t, err)
	assert.Contains(t, out, "Total params: 43,093,322")
	assert.Regexp(t, `0\.0 \(Conv2d\) +\[-1, 16, 224, 224\] +160\n`, out)
	assert.Regexp(t, `6 \(Linear\) +\[-1, 4096\] +25,694,208\n`, out)
	assert.Regexp(t, `12 \(Linear\) +\[-1, 10\] +40,970\n`, out)

	out, _, err = execute(t, context.Background(), "summary", "--config", "vgg11-cpu-quick", "--memory")
	require.NoError(t, err)
	assert.Contains(t, out, "Total params: 1,129,850")
	assert.Contains(t, out, "Training plan at batch 128")

	_, _, err = execute(t, context.Background(), "summary", "--model", "resnet18")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown model "resnet18"; known models: alexnet, vgg11`)
	_, _, err = execute(t, context.Background(), "summary", "--model", "vgg11", "--input-size", "31")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "vgg11: input_size 31 is too small; allowed: at least 32")
	_, _, err = execute(t, context.Background(), "summary", "--input-size", "64")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "alexnet: input_size 64 is too small; allowed: at least 65")
	assert.Contains(t, err.Error(), "conv.12 (MaxPool2d k3 s2): input 2x2 smaller than kernel 3x3")
	out, _, err = execute(t, context.Background(), "summary", "--model", "vgg11", "--input-size", "64")
	require.NoError(t, err, "64 is too small for AlexNet only")
	assert.Regexp(t, `6 \(Linear\) +\[-1, 4096\] +2,101,248\n`, out)
}

// TestTrainVGG11CLI trains VGG-11 with --model, then evaluates and
// predicts with its checkpoint without naming the model again.
func TestTrainVGG11CLI(t *testing.T) {
	dataDir, err := procData()
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "run")
	out, errOut, err := execute(t, context.Background(), "train", "--model", "vgg11", "--device", "ref", "--input-size", "32",
		"--width", "0.125", "--batch-size", "16", "--train-limit", "32", "--test-limit", "16", "--epochs", "1",
		"--data-dir", dataDir, "--checkpoint-dir", dir, "--checkpoint-every-minutes", "0")
	require.NoError(t, err, errOut)
	ls := outLines(out)
	require.Len(t, ls, 3, out)
	assert.Equal(t, "training on pure-Go reference (ref:0)", ls[0])
	assert.Regexp(t, reEpochLine, ls[1])
	ckpt := filepath.Join(dir, "ckpt-000000002.safetensors")
	ts, meta, err := checkpoint.Load(ckpt)
	require.NoError(t, err)
	assert.Equal(t, "vgg11", meta["architecture"])
	assert.Equal(t, "0.0.weight", ts[0].Name)

	out, errOut, err = execute(t, context.Background(), "eval", "--checkpoint", dir, "--device", "ref", "--data-dir", dataDir, "--json")
	require.NoError(t, err, errOut)
	var rep evalJSON
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.Equal(t, "vgg11 input_size 32, width 0.125", rep.Model)
	assert.Equal(t, 64, rep.Images, "the whole test set: eval takes no limit from the checkpoint")

	p := predictJSON(t, "--checkpoint", dir, "--idx", filepath.Join(dataDir, "t10k-images-idx3-ubyte.gz"), "--index", "3")
	assert.Equal(t, "vgg11 input_size 32, width 0.125", p.Model)
	require.Len(t, p.Predictions, 1)
	assert.Len(t, p.Predictions[0].Probabilities, 10)

	_, _, err = execute(t, context.Background(), "eval", "--checkpoint", dir, "--device", "ref", "--data-dir", dataDir, "--model", "alexnet", "--input-size", "65")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "has no tensor conv.0.weight")

	other := filepath.Join(t.TempDir(), "other")
	_, _, err = execute(t, context.Background(), "train", "--model", "resnet18", "--device", "ref", "--data-dir", dataDir, "--checkpoint-dir", other)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown model "resnet18"; known models: alexnet, vgg11`)
	assert.NoDirExists(t, other, "a refused model leaves no run folder")
}

// TestBenchModelCLI: bench --model vgg11 benchmarks VGG-11's training
// step and kernels and records the model; an unknown model, or PyTorch's
// comparison (AlexNet only), is refused before any device opens.
func TestBenchModelCLI(t *testing.T) {
	out, errOut, err := benchCLI(t, "bench", "--device", "ref", "--model", "vgg11", "--input-size", "32", "--width", "0.125",
		"--cpu-batch", "2", "--runs", "1", "--warmup", "0", "--skip", "cold,ceilings", "--json")
	require.NoError(t, err, errOut)
	var rep bench.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, "vgg11", rep.Settings.Model)
	assert.Equal(t, 32, rep.Settings.InputSize)
	require.Len(t, rep.Devices, 1)
	d := rep.Devices[0]
	assert.Empty(t, d.Err)
	assert.Equal(t, 2, d.Batch)
	require.NotNil(t, d.Step)
	assert.Positive(t, d.Step.ImagesPerSec.Median)
	assert.NotEmpty(t, d.Kernels)

	_, _, err = benchCLI(t, "bench", "--device", "ref", "--model", "resnet18")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown model "resnet18"; known models: alexnet, vgg11`)
	_, _, err = benchCLI(t, "bench", "--device", "ref", "--model", "vgg11", "--compare", "pytorch")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--compare pytorch runs the seed's AlexNet step only")
	_, _, err = benchCLI(t, "bench", "--device", "ref", "--model", "vgg11", "--input-size", "16")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "vgg11: input_size 16 is too small")
}
