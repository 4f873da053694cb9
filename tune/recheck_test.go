package tune_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/tune"
)

// recheckFake is a default of 10 ms, v=1 of 4 ms and v=2 of 5 ms, whose
// first dispatches at tg's shape (the default's four, then v=1's warm-up
// and five timed runs) a disturbed host slows by 2 ms: v=1 is timed at 6.
func recheckFake(tg tune.Target) *fakeTuner {
	f := newFake(
		fakeConfig{"v=0", fakeTile{ns: 10e6}},
		fakeConfig{"v=1", fakeTile{ns: 4e6}},
		fakeConfig{"v=2", fakeTile{ns: 5e6}},
	)
	f.slow, f.slowNs = map[backend.TuneKey]int{backend.KeyOf(tg.P): 10}, 2e6
	return f
}

// TestTuneRechecksCloseRunnerUp: the runner-up within 1.25x of the best is
// timed again, alternately with the best, and its undisturbed run wins
// (v=1 at 4 ms against v=2's 5); without that re-timing, or with candidates
// far apart, the first timings decide.
func TestTuneRechecksCloseRunnerUp(t *testing.T) {
	tg := gemmTarget()
	f := recheckFake(tg)
	defer f.Close()
	log, lines := newLog()
	res, err := tune.Tune(f, []tune.Target{tg}, tune.Options{Budget: 20 * time.Second, Log: log})
	require.NoError(t, err)
	require.Len(t, res, 1)
	assert.Equal(t, backend.TileConfig("v=1"), res[0].Chosen)
	assert.InDelta(t, 4.0, res[0].ChosenMs, 1e-9, "the fastest run counts")
	assert.Len(t, lines.lines("the two fastest configurations timed again", `best="v=1"`, "changed=true"), 1, lines.String())

	far := newFake(
		fakeConfig{"v=0", fakeTile{ns: 10e6}},
		fakeConfig{"v=1", fakeTile{ns: 4e6}},
		fakeConfig{"v=2", fakeTile{ns: 8e6}},
	)
	defer far.Close()
	log, lines = newLog()
	res, err = tune.Tune(far, []tune.Target{tg}, tune.Options{Budget: 20 * time.Second, Log: log})
	require.NoError(t, err)
	assert.Equal(t, backend.TileConfig("v=1"), res[0].Chosen)
	assert.Empty(t, lines.lines("timed again"), "8 ms is not within 1.25x of 4: no re-timing")
}
