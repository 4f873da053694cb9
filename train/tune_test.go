package train

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/crossgrad/crossgrad/tune"
)

// tuneFakeName is the backend of tuneFake devices.
const tuneFakeName = "tunefake"

func init() { backend.Register(tuneFakeName, 10, tuneFakeBackend{}) }

// tuneFakeBackend has one tuneFake device; opened records the last one
// opened.
type tuneFakeBackend struct{}

var opened struct {
	sync.Mutex
	dev *tuneFake
}

func (tuneFakeBackend) Devices() ([]backend.Info, error) {
	return []backend.Info{{Backend: tuneFakeName, Name: "tile fake", Type: backend.Reference, Vendor: "test"}}, nil
}

func (tuneFakeBackend) Open(int) (backend.Device, error) {
	d := newTuneFake()
	opened.Lock()
	opened.dev = d
	opened.Unlock()
	return d, nil
}

// tuneFake is a testutil.TileFake (v=2 faster than the default v=1, no
// kernel timers, dispatches and SetTile calls counted) reporting the
// tunefake backend's device.
type tuneFake struct{ *testutil.TileFake }

func newTuneFake() *tuneFake {
	return &tuneFake{testutil.NewTileFake(ref.New(), backend.TuneIdentity{Backend: tuneFakeName, Vendor: "test",
		Device: "tile fake", Driver: "1", Sources: "s1", Limits: "none"}, 3*time.Millisecond)}
}

// Info is the tunefake backend's device.
func (d *tuneFake) Info() backend.Info {
	infos, _ := tuneFakeBackend{}.Devices()
	return infos[0]
}

// tuneRun trains one tiny epoch (2 steps) on the tile fake with tune
// mode and budget, returning the seed's lines, the log and the device.
func tuneRun(t *testing.T, mode, budget string) (string, string, *tuneFake) {
	t.Helper()
	c := tinyConfig(t)
	c.Backend, c.Epochs, c.TrainLimit, c.TestLimit = []string{tuneFakeName}, 1, 64, 32
	c.Tune, c.TuneBudget = mode, budget
	c.MetricsJSONL, c.MetricsCSV = "", ""
	require.NoError(t, c.Validate())
	var out, logBuf bytes.Buffer
	_, err := Run(context.Background(), Options{Config: c, TrainSet: synthSet(1, 64), TestSet: synthSet(2, 32), Out: &out,
		Log: slog.New(slog.NewTextHandler(&logBuf, nil)), EstimateAfter: -1})
	require.NoError(t, err, logBuf.String())
	opened.Lock()
	defer opened.Unlock()
	return out.String(), logBuf.String(), opened.dev
}

// requireSeedLines checks the seed's three lines of a one-epoch run on the
// tile fake.
func requireSeedLines(t *testing.T, out string) {
	t.Helper()
	ls := lines(out)
	require.Len(t, ls, 3, out)
	assert.Equal(t, "training on tile fake (tunefake:0)", ls[0])
	assert.Regexp(t, `^epoch 1 : loss \d+\.\d{3}, train acc [01]\.\d{3}, test acc [01]\.\d{3}$`, ls[1])
	assert.Regexp(t, `^total training time \d+\.\d{2}, \d+\.\d images/sec on tile fake \(tunefake:0\)$`, ls[2])
}

func TestTrainTuneAutoThenCached(t *testing.T) {
	heavyOnRef(t) // under the race detector the reference is too slow for the budget to reach the search
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	file := (&tune.Cache{Dir: filepath.Join(cache, "crossgrad", "tune")}).Path(newTuneFake().TuneIdentity())

	out, log, dev := tuneRun(t, "auto", "5s")
	requireSeedLines(t, out)
	assert.FileExists(t, file, "tune: auto stores what it tuned")
	assert.Contains(t, log, "msg=tuning mode=auto cache="+file)
	tuned := regexp.MustCompile(`msg="tuned configuration" kernel=(\S+) layer="[^"]+" shape="[^"]+" config="v=2" from=tuned`).FindAllString(log, -1)
	assert.NotEmpty(t, tuned, log)
	assert.Positive(t, dev.Ran("v=2"), "the training steps ran the tuned configurations")

	out, log, dev = tuneRun(t, "cached", "5s")
	requireSeedLines(t, out)
	assert.Contains(t, log, "msg=tuning mode=cached cache="+file)
	cached := regexp.MustCompile(`msg="tuned configuration" kernel=(\S+) layer="[^"]+" shape="[^"]+" config="v=2" from=cache`).FindAllString(log, -1)
	assert.Len(t, cached, len(tuned), "one line per cached configuration used:\n%s", log)
	assert.NotContains(t, log, "from=tuned", "nothing is tuned again")
	assert.Positive(t, dev.Ran("v=2"))
}

func TestTrainTuneOffKeepsTheDefaultDispatches(t *testing.T) {
	heavyOnRef(t)
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	out, log, dev := tuneRun(t, "off", "5s")
	requireSeedLines(t, out)
	assert.NotContains(t, log, "msg=tuning", "tune: off logs nothing about tuning")
	assert.NotContains(t, log, "tuned configuration")
	assert.Zero(t, dev.Sets(), "no configuration is set")
	assert.Zero(t, dev.Ran("v=2"))
	assert.Positive(t, dev.Ran("v=1"))
	_, err := os.Stat(filepath.Join(cache, "crossgrad"))
	assert.True(t, os.IsNotExist(err), "no cache is touched")

	// The reference backend has no tile engine: tune: auto does nothing.
	c := tinyConfig(t)
	c.Epochs, c.TrainLimit, c.TestLimit, c.Tune = 1, 32, 32, "auto"
	var logBuf bytes.Buffer
	_, err = Run(context.Background(), Options{Config: c, TrainSet: synthSet(1, 32), TestSet: synthSet(2, 32),
		Log: slog.New(slog.NewTextHandler(&logBuf, nil)), EstimateAfter: -1})
	require.NoError(t, err)
	assert.NotContains(t, logBuf.String(), "msg=tuning")
	_, err = os.Stat(filepath.Join(cache, "crossgrad"))
	assert.True(t, os.IsNotExist(err))
}

func TestApplyTuneRefusesAnUnknownMode(t *testing.T) {
	c := config.Default()
	c.Tune = "sometimes"
	_, err := ApplyTune(newTuneFake(), nil, c, nil)
	require.ErrorContains(t, err, `"sometimes"`)
}

// TestTuneModesAgreeWithPackageTune keeps config's list of tune values and
// its default budget the same as package tune's (config does not import
// tune: its test registers a backend that tune's imports register too).
func TestTuneModesAgreeWithPackageTune(t *testing.T) {
	assert.Equal(t, []string{string(tune.Off), string(tune.Cached), string(tune.Auto)}, config.TuneModes)
	for _, s := range config.TuneModes {
		m, err := tune.ParseMode(s)
		require.NoError(t, err, s)
		assert.Equal(t, s, string(m))
	}
	c := config.Default()
	for _, s := range []string{"", "on", "Auto", "fast"} {
		_, err := tune.ParseMode(s)
		assert.Error(t, err, "tune.ParseMode(%q)", s)
		c.Tune = s
		assert.Error(t, c.Validate(), "config refuses %q too", s)
	}
	assert.Equal(t, tune.DefaultBudget, config.Default().Budget())
	assert.Equal(t, string(tune.Cached), config.Default().Tune)
}
