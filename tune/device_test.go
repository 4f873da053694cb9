package tune_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	_ "github.com/crossgrad/crossgrad/backend/opencl"
	_ "github.com/crossgrad/crossgrad/backend/vulkan"
	"github.com/crossgrad/crossgrad/tune"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testLog writes log lines to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) { l.t.Log(string(p)); return len(p), nil }

// TestTuneRealDevice tunes one small gemm on each real backend present
// within a 2 s budget: the chosen configuration is one the device admits,
// it is set on the device and a dispatch with it matches the reference.
func TestTuneRealDevice(t *testing.T) {
	for _, name := range []string{"opencl", "vulkan"} {
		t.Run(name, func(t *testing.T) {
			dev := backendtest.OpenOrSkip(t, func() (backend.Device, error) { return backend.Open(name) })
			defer dev.Close()
			tn, ok := dev.(backend.Tuner)
			require.True(t, ok, "%T has a tile engine", dev)
			tg := tune.Target{Layer: "fc.0", Phase: "forward", P: backend.Gemm{M: 33, N: 70, K: 129, TransB: 1, Alpha: 1}}
			log := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
			start := time.Now()
			res, err := tune.Tune(dev, []tune.Target{tg}, tune.Options{Budget: 2 * time.Second, Log: log})
			elapsed := time.Since(start)
			require.NoError(t, err)
			require.Len(t, res, 1)
			r := res[0]
			t.Logf("%s: default %q %.3f ms, chosen %q %.3f ms (%s), %d timed, %d failed, in %v",
				name, r.Default, r.DefaultMs, r.Chosen, r.ChosenMs, r.Source, r.Tried, r.Failed, elapsed)
			assert.Equal(t, tn.DefaultTile(tg.P), r.Default)
			require.NoError(t, tn.CheckTile(tg.P, r.Chosen))
			assert.Contains(t, tn.TileCandidates(tg.P), r.Chosen)
			assert.NotEqual(t, tune.FromFallback, r.Source, r.Warning)

			c, err := backendtest.TiledCase("tuned", tg.P)
			require.NoError(t, err)
			runner := backendtest.NewRunner(dev)
			defer runner.Close()
			check := runner.RunCase(c)
			assert.True(t, check.Pass, check.Detail())
		})
	}
}
