package checkpoint

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRemoveStaleTemps(t *testing.T) {
	dir := t.TempDir()
	keep := []string{"ckpt-000000001.safetensors", ".hidden", "x.tmp-1", ".ckpt.tmp-abc"}
	stale := []string{".ckpt-000000002.safetensors.tmp-123456", ".metrics.json.tmp-99"}
	for _, n := range append(append([]string{}, keep...), stale...) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, ".d.tmp-1"), 0o755))
	removed, err := RemoveStaleTemps(dir)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{filepath.Join(dir, stale[0]), filepath.Join(dir, stale[1])}, removed)
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	assert.ElementsMatch(t, append(keep, ".d.tmp-1"), left)

	// A temporary file of an interrupted Save has that form.
	testHookBeforeRename = func(tmp string) error {
		assert.Regexp(t, tempRE, filepath.Base(tmp))
		return os.ErrDeadlineExceeded
	}
	defer func() { testHookBeforeRename = nil }()
	require.Error(t, Save(filepath.Join(dir, "y.safetensors"), sample(1), nil))

	_, err = RemoveStaleTemps(filepath.Join(dir, "missing"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
