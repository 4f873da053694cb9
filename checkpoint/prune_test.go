package checkpoint

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// saveAt writes a checkpoint of step at position (epoch, batch) into dir.
func saveAt(t *testing.T, dir string, step int64, epoch, batch int) string {
	t.Helper()
	st := state(1, step)
	st.Epoch, st.Batch = epoch, batch
	p := filepath.Join(dir, Name(step))
	require.NoError(t, SaveCheckpoint(p, params(1), nil, st))
	return p
}

func TestPruneKeepsEpochEndsAndNewestInterval(t *testing.T) {
	dir := t.TempDir()
	// Two epochs of 8 steps, a checkpoint every 2 steps; an interrupt
	// before the first step wrote step 0 (epoch 0, batch 0: no epoch end).
	saveAt(t, dir, 0, 0, 0)
	for _, s := range []int64{2, 4, 6} {
		saveAt(t, dir, s, 0, int(s))
	}
	end1 := saveAt(t, dir, 8, 1, 0)
	for _, s := range []int64{10, 12, 14} {
		saveAt(t, dir, s, 1, int(s-8))
	}
	end2 := saveAt(t, dir, 16, 2, 0)

	isEnd, err := IsEpochEnd(end1)
	require.NoError(t, err)
	assert.True(t, isEnd)
	isEnd, err = IsEpochEnd(filepath.Join(dir, Name(14)))
	require.NoError(t, err)
	assert.False(t, isEnd)
	isEnd, err = IsEpochEnd(filepath.Join(dir, Name(0)))
	require.NoError(t, err)
	assert.False(t, isEnd)

	removed, err := Prune(dir, -1, end2)
	require.NoError(t, err)
	assert.Empty(t, removed, "-1 keeps all")

	removed, err = Prune(dir, 2, end2)
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(dir, Name(0)), filepath.Join(dir, Name(2)), filepath.Join(dir, Name(4)), filepath.Join(dir, Name(6)), filepath.Join(dir, Name(10))}, removed)
	l, err := List(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{end1, filepath.Join(dir, Name(12)), filepath.Join(dir, Name(14)), end2}, l)

	// keep 0: only epoch ends, and the checkpoint just written.
	just := saveAt(t, dir, 18, 2, 2)
	_, err = Prune(dir, 0, just)
	require.NoError(t, err)
	l, err = List(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{end1, end2, just}, l)
	assertOnly(t, dir, Name(8), StatePath(Name(8)), Name(16), StatePath(Name(16)), Name(18), StatePath(Name(18)))
}

func TestPruneKeepsUnreadableState(t *testing.T) {
	dir := t.TempDir()
	a := saveAt(t, dir, 2, 0, 2)
	saveAt(t, dir, 4, 0, 4)
	b := saveAt(t, dir, 6, 0, 6)
	require.NoError(t, os.WriteFile(StatePath(a), []byte("not safetensors"), 0o644))
	_, err := IsEpochEnd(a)
	require.Error(t, err)
	removed, err := Prune(dir, 0, b)
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(dir, Name(4))}, removed, "a checkpoint that cannot be classified is kept")
}

func TestReadMetadataReadsOnlyTheHeader(t *testing.T) {
	p := saveAt(t, t.TempDir(), 7, 3, 5)
	meta, err := ReadMetadata(StatePath(p))
	require.NoError(t, err)
	assert.Equal(t, "7", meta[MetaStep])
	assert.Equal(t, "3", meta[MetaEpoch])
	assert.Equal(t, "5", meta[MetaBatch])
	// A truncated data section does not matter; a truncated header does.
	b, err := os.ReadFile(StatePath(p))
	require.NoError(t, err)
	short := filepath.Join(t.TempDir(), "short.safetensors")
	require.NoError(t, os.WriteFile(short, b[:len(b)-40], 0o644))
	meta, err = ReadMetadata(short)
	require.NoError(t, err)
	assert.Equal(t, "7", meta[MetaStep])
	require.NoError(t, os.WriteFile(short, b[:20], 0o644))
	_, err = ReadMetadata(short)
	assert.ErrorContains(t, err, "corrupt")
}
