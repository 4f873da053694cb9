package checkpoint

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func params(seed uint64) []Tensor {
	r := rand.New(rand.NewPCG(seed, 9))
	return []Tensor{
		randTensor(r, "conv.0.weight", 4, 1, 3, 3),
		randTensor(r, "conv.0.bias", 4),
		randTensor(r, "fc.6.weight", 10, 5),
		randTensor(r, "fc.6.bias", 10),
	}
}

func state(seed uint64, step int64) State {
	return State{
		Step: step, Epoch: 2, Batch: 17,
		Config: `{"batch_size":128,"lr":0.001}`,
		M:      params(seed + 1), V: params(seed + 2),
		Extra: map[string]string{"rng": "philox"},
	}
}

func TestStatePath(t *testing.T) {
	assert.Equal(t, "runs/a/ckpt-000000100.state.safetensors", StatePath("runs/a/ckpt-000000100.safetensors"))
	assert.Equal(t, "x.state.safetensors", StatePath("x"))
	assert.Equal(t, "ckpt-000000042.safetensors", Name(42))
}

func TestStateRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.safetensors")
	s := state(1, 1234)
	require.NoError(t, SaveState(p, s))
	got, err := LoadState(p)
	require.NoError(t, err)
	assert.Equal(t, s.Step, got.Step)
	assert.Equal(t, s.Epoch, got.Epoch)
	assert.Equal(t, s.Batch, got.Batch)
	assert.Equal(t, s.Config, got.Config)
	assert.Equal(t, s.Extra, got.Extra)
	sameTensors(t, s.M, got.M)
	sameTensors(t, s.V, got.V)

	empty := State{}
	require.NoError(t, SaveState(p, empty))
	got, err = LoadState(p)
	require.NoError(t, err)
	assert.Empty(t, got.M)
}

func TestStateRejects(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s.safetensors")
	s := state(1, 1)
	s.V = s.V[:3]
	assert.ErrorContains(t, SaveState(p, s), "moments")
	s = state(1, 1)
	s.V[2].Name = "other"
	assert.ErrorContains(t, SaveState(p, s), "moment 2")
	s = state(1, 1)
	s.Extra[MetaStep] = "9"
	assert.ErrorContains(t, SaveState(p, s), "reserved")
	s = state(1, 1)
	s.Step = -1
	assert.Error(t, SaveState(p, s))
	assertOnly(t, dir)

	// A plain model file is not a state file.
	require.NoError(t, Save(p, params(1), nil))
	_, err := LoadState(p)
	require.ErrorContains(t, err, "format")
	// Bad position metadata.
	require.NoError(t, Save(p, nil, map[string]string{MetaFormat: StateFormat, MetaStep: "x", MetaEpoch: "0", MetaBatch: "0"}))
	_, err = LoadState(p)
	require.ErrorContains(t, err, "bad position")
	// A parameter list that does not match the tensors.
	require.NoError(t, Save(p, params(1)[:1], map[string]string{MetaFormat: StateFormat, MetaStep: "1", MetaEpoch: "0", MetaBatch: "0", MetaParams: "conv.0.weight"}))
	_, err = LoadState(p)
	require.ErrorContains(t, err, "tensors for 1 parameters")
}

func TestCheckpointPair(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, Name(300))
	ps := params(5)
	require.NoError(t, SaveCheckpoint(p, ps, map[string]string{"config": "{}"}, state(5, 300)))
	got, meta, st, err := LoadCheckpoint(p)
	require.NoError(t, err)
	sameTensors(t, ps, got)
	assert.Equal(t, "300", meta[MetaStep])
	assert.Equal(t, int64(300), st.Step)
	assertOnly(t, dir, Name(300), "ckpt-000000300.state.safetensors")

	// A state newer than the model (crash between the two writes).
	require.NoError(t, SaveState(StatePath(p), state(5, 301)))
	_, _, _, err = LoadCheckpoint(p)
	require.ErrorContains(t, err, "interrupted save")

	// Moments that do not match the parameters.
	st2 := state(5, 300)
	st2.M, st2.V = st2.M[:2], st2.V[:2]
	require.NoError(t, SaveState(StatePath(p), st2))
	_, _, _, err = LoadCheckpoint(p)
	require.ErrorContains(t, err, "moments for 2")
	st3 := state(5, 300)
	st3.M[1].Shape, st3.V[1].Shape = []int{2, 2}, []int{2, 2}
	require.NoError(t, SaveState(StatePath(p), st3))
	_, _, _, err = LoadCheckpoint(p)
	require.ErrorContains(t, err, "parameter 1")

	assert.ErrorContains(t, SaveCheckpoint(p, ps, map[string]string{MetaStep: "1"}, state(5, 1)), "reserved")

	// Missing state file.
	require.NoError(t, os.Remove(StatePath(p)))
	_, _, _, err = LoadCheckpoint(p)
	require.Error(t, err)
}

func TestListLatestPrune(t *testing.T) {
	dir := t.TempDir()
	_, err := Latest(dir)
	require.ErrorIs(t, err, fs.ErrNotExist)
	for _, step := range []int64{20, 3, 100} {
		require.NoError(t, SaveCheckpoint(filepath.Join(dir, Name(step)), params(1), nil, state(1, step)))
	}
	// A model without a state file and unrelated files are ignored.
	require.NoError(t, Save(filepath.Join(dir, Name(500)), params(1), nil))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644))
	l, err := List(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(dir, Name(3)), filepath.Join(dir, Name(20)), filepath.Join(dir, Name(100))}, l)
	last, err := Latest(dir)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, Name(100)), last)

	_, err = Prune(dir, 2, "")
	require.NoError(t, err)
	assertOnly(t, dir, Name(20), StatePath(Name(20)), Name(100), StatePath(Name(100)), Name(500), "notes.txt")
	_, err = Prune(dir, 0, filepath.Join(dir, Name(100)))
	require.NoError(t, err)
	assertOnly(t, dir, Name(100), StatePath(Name(100)), Name(500), "notes.txt")

	_, err = List(filepath.Join(dir, "missing"))
	require.True(t, errors.Is(err, fs.ErrNotExist))
}
