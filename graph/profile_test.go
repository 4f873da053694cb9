package graph_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/crossgrad/crossgrad/layers"
)

// TestTrainStepParts checks that dispatching TrainStepParts in order and
// reading the stats is bit-for-bit TrainStep: same statistics, same
// parameters and Adam moments afterwards, and the parts are labelled.
func TestTrainStepParts(t *testing.T) {
	m := tinyAlexNet(t, 0.5)
	dev := ref.New()
	defer dev.Close()
	a, err := graph.New(dev, m.Sequential, m.InputShape(4), graph.Config{Seed: 7})
	require.NoError(t, err)
	defer a.Close()
	b, err := graph.New(dev, m.Sequential, m.InputShape(4), graph.Config{Seed: 7})
	require.NoError(t, err)
	defer b.Close()
	img, lab := randomBatch(testutil.NewRNG(3), 3)
	require.NoError(t, a.Upload(img, lab))
	require.NoError(t, b.Upload(img, lab))

	const step, n = 2, 3
	want, err := a.TrainStep(step, n)
	require.NoError(t, err)
	parts, err := b.TrainStepParts(step, n)
	require.NoError(t, err)
	phases := map[string]int{}
	for _, p := range parts {
		require.NotEmpty(t, p.Dispatches, p.Layer)
		require.NotEmpty(t, p.Type, p.Layer)
		phases[p.Phase]++
		require.NoError(t, layers.Run(dev, p.Dispatches), "%s %s", p.Layer, p.Phase)
	}
	got, err := b.ReadStats(n)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, "input", parts[0].Layer)
	assert.Equal(t, 8, phases[graph.PhaseUpdate], "one update part per layer with parameters")
	assert.Equal(t, 0, b.Step(), "parts do not advance the step counter")

	pa, err := a.ReadParams()
	require.NoError(t, err)
	pb, err := b.ReadParams()
	require.NoError(t, err)
	assert.Equal(t, pa, pb)
	sa, err := a.ReadAdam()
	require.NoError(t, err)
	sb, err := b.ReadAdam()
	require.NoError(t, err)
	assert.Equal(t, sa.M, sb.M)
	assert.Equal(t, sa.V, sb.V)

	_, err = b.TrainStepParts(0, n)
	assert.Error(t, err)
	_, err = b.TrainStepParts(1, 5)
	assert.Error(t, err)
	_, err = b.ReadStats(0)
	assert.Error(t, err)
}
