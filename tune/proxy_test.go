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
// default take 400 ms there, slow enough to be ranked at batch 15 (the
// batch that brings the default to about 150 ms).
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

// TestTuneRanksSlowConvAtSmallerBatch: the winner at batch 15 is chosen with
// its time at the real shape; the loser never runs at the real shape.
func TestTuneRanksSlowConvAtSmallerBatch(t *testing.T) {
	f := newFake(
		fakeConfig{"v=0", fakeTile{byN: map[uint32]int64{40: 400e6, 15: 60e6}}},
		fakeConfig{"v=1", fakeTile{byN: map[uint32]int64{40: 200e6, 15: 30e6}}},
		fakeConfig{"v=2", fakeTile{byN: map[uint32]int64{40: 800e6, 15: 120e6}}},
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
	assert.NotEmpty(t, lines.lines("ranking at a smaller batch", "N15 C3"), lines.String())
	assert.True(t, ranAtRealShape(f, "v=1"))
	assert.False(t, ranAtRealShape(f, "v=2"), "the loser at batch 15 never runs at the real shape")
}

// TestSlowDispatchTimedByItsWarmUp: a dispatch of 400 ms at the real shape
// (over longTotalMs) runs there twice each for the default and the winner,
// its warm-up and one run more (the warm-up may include a driver's build),
// with the same chosen times; at the proxy's batch, where the fake takes
// 60 ms, the default still runs its warm-up and timed runs.
func TestSlowDispatchTimedByItsWarmUp(t *testing.T) {
	f := newFake(
		fakeConfig{"v=0", fakeTile{byN: map[uint32]int64{40: 400e6, 15: 60e6}}},
		fakeConfig{"v=1", fakeTile{byN: map[uint32]int64{40: 200e6, 15: 30e6}}},
	)
	defer f.Close()
	res, err := tune.Tune(f, []tune.Target{convTarget()}, tune.Options{Budget: 20 * time.Second})
	require.NoError(t, err)
	assert.InDelta(t, 400.0, res[0].DefaultMs, 1e-9)
	assert.InDelta(t, 200.0, res[0].ChosenMs, 1e-9)
	count := func(c backend.TileConfig, prefix string) int {
		n := 0
		for _, k := range f.callsOf(c) {
			if strings.HasPrefix(k.Shape, prefix) {
				n++
			}
		}
		return n
	}
	assert.Equal(t, 2, count("v=0", "N40 "), "the default at the real shape: its warm-up and one run more")
	assert.Equal(t, 2, count("v=1", "N40 "), "the winner at the real shape likewise")
	assert.Greater(t, count("v=0", "N15 "), 1, "at the proxy shape the default is timed after its warm-up")
}

// TestTuneRanksSlowBatchedGemmAtFewerProducts: Winograd's batched gemm of
// 16 products whose default takes 400 ms is ranked at 6 products (about
// 150 ms); the winner is chosen with its time at all 16, the loser never
// runs them; a single product (fully connected layers) is never proxied.
func TestTuneRanksSlowBatchedGemmAtFewerProducts(t *testing.T) {
	f := newFake(
		fakeConfig{"v=0", fakeTile{byN: map[uint32]int64{16: 400e6, 6: 50e6, 1: 400e6}}},
		fakeConfig{"v=1", fakeTile{byN: map[uint32]int64{16: 200e6, 6: 25e6, 1: 200e6}}},
		fakeConfig{"v=2", fakeTile{byN: map[uint32]int64{16: 800e6, 6: 100e6, 1: 800e6}}},
	)
	defer f.Close()
	log, lines := newLog()
	batched := tune.Target{Layer: "conv.6", Phase: "forward", P: backend.Gemm{M: 7, N: 9, K: 5, Alpha: 1, Batch: 16}}
	res, err := tune.Tune(f, []tune.Target{batched}, tune.Options{Budget: 20 * time.Second, Log: log})
	require.NoError(t, err)
	assert.Equal(t, backend.TileConfig("v=1"), res[0].Chosen)
	assert.InDelta(t, 200.0, res[0].ChosenMs, 1e-9, "the winner timed at the real shape")
	assert.NotEmpty(t, lines.lines("ranking at a smaller batch", "M7 N9 K5 b=6"), lines.String())
	ran16 := func(c backend.TileConfig) bool {
		for _, k := range f.callsOf(c) {
			if strings.HasSuffix(k.Shape, "b=16") {
				return true
			}
		}
		return false
	}
	assert.True(t, ran16("v=1"))
	assert.False(t, ran16("v=2"), "the loser at 6 products never runs all 16")

	f2 := newFake(
		fakeConfig{"v=0", fakeTile{byN: map[uint32]int64{1: 400e6}}},
		fakeConfig{"v=1", fakeTile{byN: map[uint32]int64{1: 200e6}}},
	)
	defer f2.Close()
	log, lines = newLog()
	_, err = tune.Tune(f2, []tune.Target{{Layer: "fc.0", Phase: "forward", P: backend.Gemm{M: 7, N: 9, K: 5, Alpha: 1}}},
		tune.Options{Budget: 20 * time.Second, Log: log})
	require.NoError(t, err)
	assert.Empty(t, lines.lines("ranking at a smaller batch"), lines.String())
}

// TestTuneProxyWinnerMustWinAtRealShape: the winner at batch 15 that is
// slower at the real shape is not chosen: the default stays.
func TestTuneProxyWinnerMustWinAtRealShape(t *testing.T) {
	f := newFake(
		fakeConfig{"v=0", fakeTile{byN: map[uint32]int64{40: 400e6, 15: 60e6}}},
		fakeConfig{"v=1", fakeTile{byN: map[uint32]int64{40: 500e6, 15: 30e6}}},
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
