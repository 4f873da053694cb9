package tune_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/tune"
)

// convTarget is a convolution at batch 40; the fakes below make its
// default take 400 ms there, slow enough to be ranked at batch 6 (the
// batch that brings the default to about 60 ms).
func convTarget() tune.Target {
	return tune.Target{Layer: "conv.3", Phase: "forward",
		P: backend.Conv2DFwd{Conv2DShape: backend.NewConv2DShape(40, 3, 9, 7, 5, 3, 3, 1, 1)}}
}

// ranAtRealShape reports whether f ran configuration c at batch 40.
func ranAtRealShape(f *fakeTuner, c backend.TileConfig) bool {
	for _, k := range f.callsOf(c) {
		if strings.HasPrefix(k.Shape, "N40 ") {
			return true
		}
	}
	return false
}

// TestTuneRanksSlowConvAtSmallerBatch: the winner at batch 6 is chosen with
// its time at the real shape; the loser never runs at the real shape.
func TestTuneRanksSlowConvAtSmallerBatch(t *testing.T) {
	f := newFake(
		fakeConfig{"v=0", fakeTile{byN: map[uint32]int64{40: 400e6, 6: 60e6}}},
		fakeConfig{"v=1", fakeTile{byN: map[uint32]int64{40: 200e6, 6: 30e6}}},
		fakeConfig{"v=2", fakeTile{byN: map[uint32]int64{40: 800e6, 6: 120e6}}},
	)
	defer f.Close()
	log, lines := newLog()
	res, err := tune.Tune(f, []tune.Target{convTarget()}, tune.Options{Budget: 20 * time.Second, Log: log})
	require.NoError(t, err)
	r := res[0]
	assert.Equal(t, backend.TileConfig("v=1"), r.Chosen)
	assert.Equal(t, tune.FromTuning, r.Source)
	assert.InDelta(t, 400.0, r.DefaultMs, 1e-9, "the default timed at the real shape")
	assert.InDelta(t, 200.0, r.ChosenMs, 1e-9, "the winner timed at the real shape")
	assert.NotEmpty(t, lines.lines("ranking at a smaller batch", "N6 C3"), lines.String())
	assert.True(t, ranAtRealShape(f, "v=1"))
	assert.False(t, ranAtRealShape(f, "v=2"), "the loser at batch 6 never runs at the real shape")
}

// TestTuneProxyWinnerMustWinAtRealShape: the winner at batch 6 that is
// slower at the real shape is not chosen: the default stays.
func TestTuneProxyWinnerMustWinAtRealShape(t *testing.T) {
	f := newFake(
		fakeConfig{"v=0", fakeTile{byN: map[uint32]int64{40: 400e6, 6: 60e6}}},
		fakeConfig{"v=1", fakeTile{byN: map[uint32]int64{40: 500e6, 6: 30e6}}},
	)
	defer f.Close()
	log, lines := newLog()
	res, err := tune.Tune(f, []tune.Target{convTarget()}, tune.Options{Budget: 20 * time.Second, Log: log})
	require.NoError(t, err)
	r := res[0]
	assert.Equal(t, backend.TileConfig("v=0"), r.Chosen)
	assert.Equal(t, tune.FromDefault, r.Source)
	assert.InDelta(t, 400.0, r.ChosenMs, 1e-9)
	assert.NotEmpty(t, lines.lines("not faster at the real shape", `config="v=1"`), lines.String())
	assert.Equal(t, backend.TileConfig("v=0"), f.tileSet(backend.KeyOf(convTarget().P)))
}
