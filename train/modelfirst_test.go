package train

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBadModelIsRefusedBeforeAnyOutput gives Run model options the model
// refuses (AlexNet at input 32; an unknown model): the error is the model's,
// even for a run folder that holds another run and whose lock another
// writer holds, which is left exactly as it was; a folder not there yet is
// not made.
func TestBadModelIsRefusedBeforeAnyOutput(t *testing.T) {
	c := tinyConfig(t)
	c.InputSize = 32
	require.NoError(t, os.MkdirAll(c.CheckpointDir, 0o755))
	other := filepath.Join(c.CheckpointDir, "ckpt-000000005.safetensors")
	require.NoError(t, os.WriteFile(other, []byte("another run"), 0o644))
	lock, err := lockRunDir(c.CheckpointDir)
	require.NoError(t, err)
	defer lock.release()
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	require.NoError(t, os.Chtimes(c.CheckpointDir, old, old))
	before := files(t, c.CheckpointDir)

	_, _, err = runTiny(t, c, Options{})
	require.ErrorContains(t, err, "alexnet: input_size 32 is too small; allowed: at least 65")
	assert.Equal(t, before, files(t, c.CheckpointDir))
	st, err := os.Stat(c.CheckpointDir)
	require.NoError(t, err)
	assert.Equal(t, old, st.ModTime(), "nothing was created in the run folder, even briefly")

	c = tinyConfig(t)
	c.Model = "resnet18"
	c.CheckpointDir = filepath.Join(t.TempDir(), "runs", "new")
	c.MetricsJSONL, c.MetricsCSV = filepath.Join(c.CheckpointDir, "metrics.jsonl"), filepath.Join(c.CheckpointDir, "metrics.csv")
	_, _, err = runTiny(t, c, Options{})
	require.ErrorContains(t, err, `unknown model "resnet18"`)
	assert.NoDirExists(t, filepath.Dir(c.CheckpointDir))
}
