package tune_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/tune"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gemmTarget is a small gemm of a linear layer's forward pass.
func gemmTarget() tune.Target {
	return tune.Target{Layer: "fc.0", Phase: "forward",
		P: backend.Gemm{M: 24, N: 40, K: 56, TransB: 1, Alpha: 1}}
}

// TestTuneChoosesFastestCorrect: the fastest candidate that passes its
// check wins and is set on the device; the wrong one (the fastest of all)
// and the failing one are discarded and logged, and no candidate runs at
// the real shape before it passed its check.
func TestTuneChoosesFastestCorrect(t *testing.T) {
	f := standardFake()
	defer f.Close()
	log, lines := newLog()
	tg := gemmTarget()
	var progress []string
	res, err := tune.Tune(f, []tune.Target{tg}, tune.Options{Budget: 20 * time.Second, Log: log,
		Progress: func(done, total int, what string) {
			progress = append(progress, fmt.Sprint(done, "/", total, " ", what))
		}})
	require.NoError(t, err)
	require.Len(t, res, 1)
	r := res[0]
	assert.Equal(t, backend.TileConfig("v=0"), r.Default)
	assert.Equal(t, backend.TileConfig("v=1"), r.Chosen)
	assert.Equal(t, tune.FromTuning, r.Source)
	assert.InDelta(t, 10.0, r.DefaultMs, 1e-9)
	assert.InDelta(t, 5.0, r.ChosenMs, 1e-9)
	assert.InDelta(t, 2.0, r.Speedup(), 1e-9)
	assert.Equal(t, 3, r.Tried, "v=0, v=1 and v=4 timed")
	assert.Equal(t, 2, r.Failed, "v=2 and v=3 discarded")
	assert.Empty(t, r.Warning)
	assert.Equal(t, tg, r.Target)
	assert.Equal(t, backend.TileConfig("v=1"), f.tileSet(backend.KeyOf(tg.P)), "set on the device")
	assert.Equal(t, []string{"1/1 gemm M24 N40 K56 B^T (fc.0 forward)"}, progress)

	real := backend.KeyOf(tg.P)
	for _, c := range []backend.TileConfig{"v=0", "v=1", "v=2", "v=3", "v=4"} {
		keys := f.callsOf(c)
		require.NotEmpty(t, keys, c)
		assert.NotEqual(t, real, keys[0], "%s ran at the real shape before its check", c)
	}
	assert.NotContains(t, f.callsOf("v=2"), real, "the wrong candidate never runs at the real shape")
	assert.NotContains(t, f.callsOf("v=3"), real)
	assert.Len(t, lines.lines("candidate discarded", `config="v=2"`, "fails check case gemm/tune_edges_NT_b0"), 1, lines.String())
	assert.Len(t, lines.lines("candidate discarded", `config="v=3"`, "fake: kernel build failed"), 1, lines.String())
	assert.Zero(t, f.LiveBuffers(), "every buffer Tune allocated is released")
}

// TestTuneDiscardsWrongAtRealShape: a candidate that passes the small
// cases but whose real-shape output differs from the default's is
// discarded, however fast.
func TestTuneDiscardsWrongAtRealShape(t *testing.T) {
	tg := gemmTarget()
	f := newFake(
		fakeConfig{"v=0", fakeTile{ns: 10e6}},
		fakeConfig{"v=5", fakeTile{ns: 1e6, wrongAt: backend.KeyOf(tg.P)}},
		fakeConfig{"v=4", fakeTile{ns: 8e6}},
	)
	defer f.Close()
	log, lines := newLog()
	res, err := tune.Tune(f, []tune.Target{tg}, tune.Options{Budget: 20 * time.Second, Log: log})
	require.NoError(t, err)
	assert.Equal(t, backend.TileConfig("v=4"), res[0].Chosen)
	assert.Equal(t, 1, res[0].Failed)
	assert.Len(t, lines.lines("candidate discarded", `config="v=5"`, "at the real shape", "the default configuration gives"), 1, lines.String())
}

// TestTuneFallbackWhenEveryCandidateFails: wrong, failing, refused and
// crashing candidates leave the default, with a warning naming the kernel
// and the first failure.
func TestTuneFallbackWhenEveryCandidateFails(t *testing.T) {
	f := newFake(
		fakeConfig{"v=0", fakeTile{ns: 10e6}},
		fakeConfig{"v=2", fakeTile{ns: 1e6, wrong: true}},
		fakeConfig{"v=3", fakeTile{ns: 1e6, err: errors.New("fake: kernel build failed")}},
		fakeConfig{"v=6", fakeTile{ns: 1e6, refuse: true}},
		fakeConfig{"v=7", fakeTile{ns: 1e6, panics: true}},
	)
	defer f.Close()
	log, lines := newLog()
	tg := gemmTarget()
	res, err := tune.Tune(f, []tune.Target{tg}, tune.Options{Budget: 20 * time.Second, Log: log})
	require.NoError(t, err)
	r := res[0]
	assert.Equal(t, tune.FromFallback, r.Source)
	assert.Equal(t, backend.TileConfig("v=0"), r.Chosen)
	assert.Equal(t, 4, r.Failed)
	assert.Equal(t, 1, r.Tried)
	assert.Contains(t, r.Warning, "gemm M24 N40 K56 B^T")
	assert.Contains(t, r.Warning, "every candidate but the default failed its check")
	assert.Contains(t, r.Warning, `configuration "v=2" fails check case gemm/tune_edges_NT_b0`, "the first failure")
	assert.Len(t, lines.lines("level=WARN", "every candidate but the default failed"), 1, lines.String())
	assert.Len(t, lines.lines(`config="v=7"`, "panic in backend"), 1, "the panic became a discarded candidate")
	assert.Equal(t, backend.TileConfig("v=0"), f.tileSet(backend.KeyOf(tg.P)))
}

// TestTuneDefaultFailsItsCheck: a default that fails its check is warned
// about; a correct candidate replaces it, and with none it is kept.
func TestTuneDefaultFailsItsCheck(t *testing.T) {
	tg := gemmTarget()
	t.Run("another passes", func(t *testing.T) {
		f := newFake(fakeConfig{"v=0", fakeTile{ns: 1e6, wrong: true}}, fakeConfig{"v=1", fakeTile{ns: 5e6}})
		defer f.Close()
		log, lines := newLog()
		res, err := tune.Tune(f, []tune.Target{tg}, tune.Options{Budget: 20 * time.Second, Log: log})
		require.NoError(t, err)
		assert.Equal(t, backend.TileConfig("v=1"), res[0].Chosen)
		assert.Equal(t, tune.FromTuning, res[0].Source)
		assert.Zero(t, res[0].DefaultMs, "a default that fails its check is never timed")
		assert.NotContains(t, f.callsOf("v=0"), backend.KeyOf(tg.P))
		assert.Contains(t, res[0].Warning, `the default configuration "v=0" fails its check`)
		assert.Len(t, lines.lines("level=WARN", "the default configuration"), 1, lines.String())
	})
	t.Run("none passes", func(t *testing.T) {
		f := newFake(fakeConfig{"v=0", fakeTile{ns: 1e6, wrong: true}}, fakeConfig{"v=2", fakeTile{ns: 5e6, wrong: true}})
		defer f.Close()
		res, err := tune.Tune(f, []tune.Target{tg}, tune.Options{Budget: 20 * time.Second})
		require.NoError(t, err)
		assert.Equal(t, backend.TileConfig("v=0"), res[0].Chosen)
		assert.Equal(t, tune.FromFallback, res[0].Source)
		assert.Contains(t, res[0].Warning, "gemm M24 N40 K56 B^T (fc.0 forward): the default configuration")
		assert.Equal(t, 2, res[0].Failed)
	})
}

// TestTuneDeviceLost: a candidate whose dispatch loses the device ends
// tuning with that error.
func TestTuneDeviceLost(t *testing.T) {
	f := newFake(
		fakeConfig{"v=0", fakeTile{ns: 10e6}},
		fakeConfig{"v=8", fakeTile{ns: 1e6, err: backend.WithKind(backend.ErrDeviceLost, errors.New("fake: GPU hang"))}},
		fakeConfig{"v=1", fakeTile{ns: 5e6}},
	)
	defer f.Close()
	_, err := tune.Tune(f, []tune.Target{gemmTarget()}, tune.Options{Budget: 20 * time.Second})
	require.ErrorIs(t, err, backend.ErrDeviceLost)
	assert.ErrorContains(t, err, "fake: GPU hang")
	assert.ErrorContains(t, err, `"v=8"`)
	assert.Empty(t, f.callsOf("v=1"), "nothing runs after the loss")
}

// TestTuneTinyBudget: a budget of 1 ns runs nothing and returns the
// defaults, valid on the device.
func TestTuneTinyBudget(t *testing.T) {
	f := standardFake()
	defer f.Close()
	tgs := []tune.Target{gemmTarget(), {Layer: "fc.1", Phase: "backward", P: backend.Gemm{M: 8, N: 9, K: 10, Alpha: 1}}}
	start := time.Now()
	res, err := tune.Tune(f, tgs, tune.Options{Budget: time.Nanosecond})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 100*time.Millisecond)
	require.Len(t, res, 2)
	for i, r := range res {
		assert.Equal(t, tgs[i], r.Target)
		assert.Equal(t, backend.TileConfig("v=0"), r.Chosen)
		assert.Equal(t, tune.FromDefault, r.Source)
		assert.NoError(t, f.CheckTile(r.P, r.Chosen))
	}
	assert.Empty(t, f.calls, "nothing was dispatched")
}

// TestTuneRespectsBudget: with candidates that take wall time, Tune stops
// within its budget and keeps the best found so far.
func TestTuneRespectsBudget(t *testing.T) {
	cfgs := []fakeConfig{{"v=0", fakeTile{ns: 10e6, sleep: 5 * time.Millisecond}}}
	for i := 1; i <= 30; i++ {
		cfgs = append(cfgs, fakeConfig{backend.TileConfig(fmt.Sprintf("v=%d", i)),
			fakeTile{ns: int64(10e6 - i*1e5), sleep: 5 * time.Millisecond}})
	}
	f := newFake(cfgs...)
	defer f.Close()
	const budget = 400 * time.Millisecond
	start := time.Now()
	res, err := tune.Tune(f, []tune.Target{gemmTarget()}, tune.Options{Budget: budget})
	elapsed := time.Since(start)
	require.NoError(t, err)
	assert.Less(t, elapsed, budget+150*time.Millisecond)
	r := res[0]
	assert.Greater(t, r.Tried, 1, "some candidates were timed")
	assert.Less(t, r.Tried, 31, "not all of them")
	assert.Equal(t, tune.FromTuning, r.Source)
	assert.Less(t, r.ChosenMs, r.DefaultMs)
}

// TestTuneRefinement: the best configuration lies outside the coarse pass
// (the first candidates in cost-model order); local refinement around the
// coarse pass's best finds it without trying every candidate.
func TestTuneRefinement(t *testing.T) {
	// Four parameters of four values each; the device time falls towards
	// a=4 b=4 c=3 d=2, which the "cost model" lists last.
	ns := func(a, b, c, d int) int64 {
		return int64(60e6 - 3e6*(4-abs(a-4)) - 2e6*(4-abs(b-4)) - 1e6*(4-abs(c-3)) - 1e6*(4-abs(d-2)))
	}
	name := func(a, b, c, d int) backend.TileConfig {
		return backend.TileConfig(fmt.Sprintf("a=%d b=%d c=%d d=%d", a, b, c, d))
	}
	cfgs := []fakeConfig{{name(1, 1, 1, 1), fakeTile{ns: ns(1, 1, 1, 1)}}}
	for i := range 256 {
		a, b, c, d := 1+i/64, 1+i/16%4, 1+i/4%4, 1+i%4
		if i == 0 || name(a, b, c, d) == name(4, 4, 3, 2) {
			continue
		}
		cfgs = append(cfgs, fakeConfig{name(a, b, c, d), fakeTile{ns: ns(a, b, c, d)}})
	}
	best := fakeConfig{name(4, 4, 3, 2), fakeTile{ns: ns(4, 4, 3, 2)}}
	cfgs = append(cfgs, best)
	f := newFake(cfgs...)
	defer f.Close()
	res, err := tune.Tune(f, []tune.Target{gemmTarget()}, tune.Options{Budget: 60 * time.Second})
	require.NoError(t, err)
	r := res[0]
	assert.Equal(t, best.c, r.Chosen)
	assert.InDelta(t, float64(best.t.ns)/1e6, r.ChosenMs, 1e-9)
	assert.Less(t, r.Tried, len(cfgs)/2, "refinement, not brute force")
	t.Logf("tried %d of %d candidates", r.Tried, len(cfgs))
}

func abs(v int) int { return max(v, -v) }

// TestTuneNotATuner: a device without a tile engine cannot be tuned.
func TestTuneNotATuner(t *testing.T) {
	f := standardFake()
	defer f.Close()
	_, err := tune.Tune(f.Device, []tune.Target{gemmTarget()}, tune.Options{})
	require.ErrorContains(t, err, "no tile engine")
}

// TestTuneTriesEarlierWinnerFirst: the configuration an earlier target of
// the same kernel chose is the first candidate a later one times at its
// real shape (built already, it often wins again).
func TestTuneTriesEarlierWinnerFirst(t *testing.T) {
	var cfgs []fakeConfig
	for i := range 10 {
		ns := int64(10e6 - 1e5*int64(i))
		if i == 7 {
			ns = 2e6
		}
		cfgs = append(cfgs, fakeConfig{backend.TileConfig(fmt.Sprintf("v=%d", i)), fakeTile{ns: ns}})
	}
	f := newFake(cfgs...)
	defer f.Close()
	first := gemmTarget()
	second := tune.Target{Layer: "fc.3", Phase: "forward", P: backend.Gemm{M: 24, N: 48, K: 40, TransB: 1, Alpha: 1}}
	res, err := tune.Tune(f, []tune.Target{first, second}, tune.Options{Budget: 20 * time.Second})
	require.NoError(t, err)
	require.Len(t, res, 2)
	assert.Equal(t, backend.TileConfig("v=7"), res[0].Chosen)
	assert.Equal(t, backend.TileConfig("v=7"), res[1].Chosen)
	key := backend.KeyOf(second.P)
	var order []backend.TileConfig
	for _, c := range f.calls {
		if c.key == key && c.c != "v=0" && !slices.Contains(order, c.c) {
			order = append(order, c.c)
		}
	}
	require.NotEmpty(t, order)
	assert.Equal(t, backend.TileConfig("v=7"), order[0], "the first target's winner is timed first: %v", order)
}

// TestTuneStopsWhenCoarsePassLosesToDefault: when none of the coarse
// pass's candidates beats the default, the target's search ends there
// (no climbing around the default), leaving its share to later targets.
func TestTuneStopsWhenCoarsePassLosesToDefault(t *testing.T) {
	cfgs := []fakeConfig{{"a=1 b=1", fakeTile{ns: 1e6}}}
	for i := range 30 {
		cfgs = append(cfgs, fakeConfig{backend.TileConfig(fmt.Sprintf("a=%d b=%d", 2+i/6, 1+i%6)), fakeTile{ns: 2e6}})
	}
	f := newFake(cfgs...)
	defer f.Close()
	res, err := tune.Tune(f, []tune.Target{gemmTarget()}, tune.Options{Budget: 20 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, backend.TileConfig("a=1 b=1"), res[0].Chosen)
	assert.Equal(t, 1+8, res[0].Tried, "the default and the coarse pass's 8")
}

// TestTuneLongWarmUpRunsAgain: a candidate whose first dispatch at the
// real shape includes a driver's build (a second on top of its 50 ms) is
// timed once more and wins over the 200 ms default, which is itself timed
// by its long warm-up and one run more.
func TestTuneLongWarmUpRunsAgain(t *testing.T) {
	tg := gemmTarget()
	f := newFake(
		fakeConfig{"v=0", fakeTile{ns: 200e6}},
		fakeConfig{"v=1", fakeTile{ns: 50e6, coldAt: backend.KeyOf(tg.P), coldNs: 1e9}},
	)
	defer f.Close()
	res, err := tune.Tune(f, []tune.Target{tg}, tune.Options{Budget: 20 * time.Second})
	require.NoError(t, err)
	require.Len(t, res, 1)
	assert.Equal(t, backend.TileConfig("v=1"), res[0].Chosen)
	assert.InDelta(t, 50.0, res[0].ChosenMs, 1e-9)
	assert.InDelta(t, 200.0, res[0].DefaultMs, 1e-9)
}

// TestTuneLongWarmUpPastShareRunsAgain: a target of little arithmetic
// whose share ends during its one candidate's build still times that
// candidate after the build (the budget has not ended), instead of taking
// the build for its time and keeping the slower default.
func TestTuneLongWarmUpPastShareRunsAgain(t *testing.T) {
	small := tune.Target{Layer: "fc.0", Phase: "forward", P: backend.Gemm{M: 4, N: 4, K: 4, TransB: 1, Alpha: 1}}
	big := tune.Target{Layer: "fc.3", Phase: "forward", P: backend.Gemm{M: 64, N: 64, K: 64, TransB: 1, Alpha: 1}}
	f := newFake(
		fakeConfig{"v=0", fakeTile{ns: 200e6, sleep: 10 * time.Millisecond}},
		fakeConfig{"v=1", fakeTile{ns: 5e6, sleep: 60 * time.Millisecond, coldAt: backend.KeyOf(small.P), coldNs: 1e9}},
	)
	defer f.Close()
	log, logs := newLog()
	res, err := tune.Tune(f, []tune.Target{small, big}, tune.Options{Budget: 20 * time.Second, Log: log})
	require.NoError(t, err)
	require.Len(t, res, 2)
	assert.Equal(t, backend.TileConfig("v=1"), res[0].Chosen, logs.String())
	assert.InDelta(t, 5.0, res[0].ChosenMs, 1e-9)
	assert.Equal(t, tune.FromTuning, res[0].Source)
}
