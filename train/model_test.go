package train

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/config"
)

// tinyVGG is tinyConfig with VGG-11 at input 32, width 1/8 (conv channels
// 2, 4, 8, 16, 16; fc hidden 512), one epoch.
func tinyVGG(t *testing.T) config.Config {
	t.Helper()
	c := tinyConfig(t)
	c.Model, c.InputSize, c.Width, c.Epochs = "vgg11", 32, 0.125, 1
	return c
}

// TestVGG11TrainEvalResume trains VGG-11 and checks that the checkpoint
// records the model (metadata and configuration) with d2l.ai's tensor
// names, that eval builds the model named in the checkpoint whatever the
// configuration says, and that resume takes it too.
func TestVGG11TrainEvalResume(t *testing.T) {
	heavyOnRef(t)
	c := tinyVGG(t)
	res, out, err := runTiny(t, c, Options{})
	require.NoError(t, err)
	require.Len(t, lines(out), 3, out)
	assert.Equal(t, "training on pure-Go reference (ref:0)", lines(out)[0])
	params, meta, st, err := checkpoint.LoadCheckpoint(res.Checkpoint)
	require.NoError(t, err)
	assert.Equal(t, "vgg11", meta["architecture"])
	assert.Equal(t, "32", meta["input_size"])
	require.Len(t, params, 22)
	assert.Equal(t, "0.0.weight", params[0].Name)
	assert.Equal(t, []int{2, 1, 3, 3}, params[0].Shape)
	assert.Equal(t, "6.weight", params[16].Name)
	assert.Equal(t, []int{512, 16}, params[16].Shape)
	assert.Equal(t, "12.bias", params[21].Name)
	stored, err := config.FromJSON(st.Config)
	require.NoError(t, err)
	assert.Equal(t, "vgg11", stored.Model)

	ec := config.Default() // alexnet at 224: the checkpoint's model wins
	ec.Backend, ec.BatchSize = []string{"ref"}, 64
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	rep, err := EvalCheckpoint(context.Background(), EvalOptions{Config: ec, Checkpoint: c.CheckpointDir, TestSet: synthSet(2, 128), Log: log})
	require.NoError(t, err)
	assert.Equal(t, "vgg11 input_size 32, width 0.125", rep.Model)
	assert.Equal(t, res.Epochs[0].TestAcc, rep.Accuracy())
	assert.Contains(t, logs.String(), "model = vgg11 from the checkpoint (configuration says alexnet)")

	// Another model set explicitly is built as asked and refused.
	ec.Model, ec.InputSize = "alexnet", 65
	_, err = EvalCheckpoint(context.Background(), EvalOptions{Config: ec, Explicit: map[string]bool{"model": true, "input_size": true},
		Checkpoint: c.CheckpointDir, TestSet: synthSet(2, 128)})
	require.ErrorContains(t, err, "has no tensor conv.0.weight (shape [12 1 11 11] in the model: alexnet input_size 65, width 0.125); it was made for another architecture")
	_, err = EvalCheckpoint(context.Background(), EvalOptions{Config: ec, Explicit: map[string]bool{"model": true},
		Checkpoint: c.CheckpointDir, TestSet: synthSet(2, 128)})
	require.ErrorContains(t, err, "alexnet: input_size 32 is too small; allowed: at least 65")

	// Resume takes the model from the checkpoint.
	rc := tinyConfig(t)
	rc.Resume, rc.Epochs = c.CheckpointDir, 2
	logs.Reset()
	res2, _, err := runTiny(t, rc, Options{Log: log, Explicit: map[string]bool{"epochs": true}})
	require.NoError(t, err)
	require.Len(t, res2.Epochs, 2)
	assert.Equal(t, "vgg11", res2.Config.Model)
	assert.Contains(t, logs.String(), "model = vgg11 from the checkpoint (configuration says alexnet)")
}

// TestCheckpointModelChecks: a checkpoint without a configuration gets its
// model from the architecture metadata; an unknown one is refused listing
// the known models; metadata contradicting the stored configuration is
// refused by eval and resume.
func TestCheckpointModelChecks(t *testing.T) {
	heavyOnRef(t)
	c := tinyVGG(t)
	res, _, err := runTiny(t, c, Options{})
	require.NoError(t, err)
	params, meta, st, err := checkpoint.LoadCheckpoint(res.Checkpoint)
	require.NoError(t, err)
	dir := t.TempDir()
	ec := config.Default()
	ec.Backend, ec.InputSize, ec.Width = []string{"ref"}, 32, 0.125

	bare := filepath.Join(dir, "bare.safetensors")
	require.NoError(t, checkpoint.Save(bare, params, map[string]string{"architecture": "vgg11"}))
	rep, err := EvalCheckpoint(context.Background(), EvalOptions{Config: ec, Checkpoint: bare, TestSet: synthSet(2, 128)})
	require.NoError(t, err)
	assert.Equal(t, "vgg11 input_size 32, width 0.125", rep.Model)

	unknown := filepath.Join(dir, "unknown.safetensors")
	require.NoError(t, checkpoint.Save(unknown, params, map[string]string{"architecture": "resnet18"}))
	_, err = EvalCheckpoint(context.Background(), EvalOptions{Config: ec, Checkpoint: unknown, TestSet: synthSet(2, 128)})
	require.ErrorContains(t, err, `model: unknown model "resnet18"; known models: alexnet, vgg11`)

	mixed := filepath.Join(dir, "ckpt-000000008.safetensors")
	meta = map[string]string{checkpoint.MetaConfig: meta[checkpoint.MetaConfig], "architecture": "alexnet"}
	require.NoError(t, checkpoint.SaveCheckpoint(mixed, params, meta, st))
	_, err = EvalCheckpoint(context.Background(), EvalOptions{Config: ec, Checkpoint: mixed, TestSet: synthSet(2, 128)})
	require.ErrorContains(t, err, `records architecture "alexnet" but its stored configuration says model "vgg11"`)
	rc := tinyConfig(t)
	rc.Resume = mixed
	_, _, err = runTiny(t, rc, Options{})
	require.ErrorContains(t, err, `records architecture "alexnet" but its stored configuration says model "vgg11"`)
}
