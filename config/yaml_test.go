package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestYAMLLoadsBackToTheSameValues(t *testing.T) {
	c := Default()
	c.Backend = []string{"vulkan:0", "opencl", "ref"}
	c.InputSize, c.Width, c.BatchSize, c.Epochs = 65, 0.0625, 32, 3
	c.LR, c.AdamEps, c.CheckpointEveryMinutes = 3e-4, 1e-8, 1e-7
	c.Seed, c.TrainLimit, c.TestLimit = 1<<40, 256, 128
	c.DataDir = `/data/odd: "name" # not a comment`
	c.CheckpointDir = "runs/a b"
	c.CheckpointEverySteps, c.KeepCheckpoints = 5, -1
	c.Resume = "runs/a b/ckpt-000000005.safetensors"
	c.MetricsJSONL, c.MetricsCSV = "/tmp/m.jsonl", "" // csv off
	c.LogLevel, c.Quiet = "debug", true
	require.NoError(t, c.Validate())

	p := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(p, c.YAML(), 0o644))
	got, err := Load(p, nil, nil)
	require.NoError(t, err, string(c.YAML()))
	assert.Equal(t, p, got.Source)
	got.Source, c.Source = "", ""
	assert.Equal(t, c, got, string(c.YAML()))
	assert.Contains(t, string(c.YAML()), "keep_checkpoints: -1  # ")
	assert.Contains(t, string(c.YAML()), `metrics_csv: "off"`)
}

func TestKeepCheckpointsKey(t *testing.T) {
	assert.Equal(t, 2, Default().KeepCheckpoints)
	c, err := Load(writeYAML(t, "keep_checkpoints: -1\n"), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, -1, c.KeepCheckpoints)
	_, err = Load(writeYAML(t, "keep_checkpoints: -2\n"), nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "keep_checkpoints = -2 is invalid; allowed: >= -1")
}
