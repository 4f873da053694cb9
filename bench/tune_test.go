package bench

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/internal/testutil"
)

// newTileFake is the reference device with a two-configuration tile
// engine (testutil.TileFake: v=2 faster than the default v=1, no kernel
// timers); the extra kernels' square SGEMM only fills C with ones, so that
// timing it costs little on the reference.
func newTileFake() *testutil.TileFake {
	d := testutil.NewTileFake(ref.New(), backend.TuneIdentity{Backend: "ref", Vendor: "test", Device: "tile fake",
		Driver: "1", Sources: "s1", Limits: "none"}, 5*time.Millisecond)
	d.Square = squareSide
	return d
}

// tuneBench benchmarks the kernels of the tiny model on a tile fake with
// tune mode.
func tuneBench(t *testing.T, mode string) (DeviceReport, string, string) {
	t.Helper()
	c := tinyConfig()
	c.Tune, c.TuneBudget = mode, "5s"
	var log bytes.Buffer
	rep, err := Run(context.Background(), Options{Targets: targets(t, "ref"), Config: c, CPUBatch: 2, Runs: 1, Warmup: -1,
		Skip: map[string]bool{SecCold: true, SecStep: true, SecCeilings: true}, Log: &log,
		Open: func(string) (backend.Device, error) { return newTileFake(), nil }})
	require.NoError(t, err)
	require.Len(t, rep.Devices, 1)
	assert.Equal(t, mode, rep.Settings.Tune)
	var txt bytes.Buffer
	require.NoError(t, rep.WriteText(&txt))
	return rep.Devices[0], txt.String(), log.String()
}

// tiledRows are the kernel rows of d with a tile configuration, and
// whether every tiled kernel row has one.
func tiledRows(d DeviceReport) ([]KernelRow, bool) {
	var out []KernelRow
	all := true
	for _, k := range d.Kernels {
		if backend.IsTiled(backend.Kernel(k.Kernel)) {
			all = all && k.TileDefault != ""
		}
		if k.TileDefault != "" {
			out = append(out, k)
		}
	}
	return out, all
}

func TestBenchTuneOffShowsTheDefaults(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	d, txt, _ := tuneBench(t, "off")
	assert.Empty(t, d.Err)
	assert.Equal(t, "off", d.Tune)
	rows, all := tiledRows(d)
	assert.True(t, all, "every gemm and convolution row has its configurations")
	require.NotEmpty(t, rows)
	for _, k := range rows {
		assert.Equal(t, "v=1", k.TileDefault, k.Where)
		assert.Equal(t, "v=1", k.TileChosen, "%s %s runs the default", k.Kernel, k.Where)
	}
	for _, k := range d.Kernels {
		if !backend.IsTiled(backend.Kernel(k.Kernel)) {
			assert.Empty(t, k.TileDefault, k.Kernel)
		}
	}
	assert.Contains(t, txt, "tuning: tune off (every tiled kernel runs the backend's default configuration)")
	assert.Regexp(t, `(?m)^kernel +where +shape +calls +device ms .* +default config +chosen config +error$`, txt)
	assert.Regexp(t, `(?m)^conv2d_fwd +conv\.0 forward +.* v=1 +\(default\)\s*$`, txt)
	assert.Contains(t, txt, "- default config, chosen config: the tile configuration of a tiled kernel")
}

func TestBenchTuneAutoThenCachedShowsTheChosen(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	d, txt, log := tuneBench(t, "auto")
	assert.Empty(t, d.Err)
	assert.Contains(t, log, "bench:   tuning (tune: auto, budget 5s)")
	assert.Equal(t, filepath.Join(cache, "crossgrad", "tune"), filepath.Dir(d.TuneCache))
	assert.FileExists(t, d.TuneCache)
	assert.Positive(t, d.TunedShapes)
	assert.GreaterOrEqual(t, d.TiledShapes, d.TunedShapes)
	rows, _ := tiledRows(d)
	chosen := 0
	for _, k := range rows {
		if k.TileChosen == "v=2" {
			chosen++
		}
	}
	assert.Positive(t, chosen)
	sq := rows[len(rows)-1]
	assert.Equal(t, "extra (not in a step)", sq.Where)
	assert.Equal(t, "v=2", sq.TileChosen, "the extra square SGEMM is tuned too")
	assert.Regexp(t, regexp.MustCompile(`(?m)^gemm +extra \(not in a step\) +M1024 N1024 K1024 .* v=1 +v=2\s*$`), txt)
	assert.Contains(t, txt, fmt.Sprintf("tuning: tune auto; %d of %d tiled shapes of the step run a tuned configuration; cache %s",
		d.TunedShapes, d.TiledShapes, d.TuneCache))

	again, _, _ := tuneBench(t, "cached")
	assert.Equal(t, d.TunedShapes, again.TunedShapes, "the cache gives the same configurations")
	rows2, _ := tiledRows(again)
	require.Len(t, rows2, len(rows))
	for i := range rows {
		assert.Equal(t, rows[i].TileChosen, rows2[i].TileChosen, "%s %s", rows[i].Kernel, rows[i].Where)
	}
}

func TestBenchRefHasNoTileColumns(t *testing.T) {
	rep := intelReport()
	var txt bytes.Buffer
	require.NoError(t, rep.WriteText(&txt))
	assert.NotContains(t, txt.String(), "default config")
	assert.NotContains(t, txt.String(), "tuning:")
}
