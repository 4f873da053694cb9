package tune_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/tune"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// entry is a cache entry for p tuned at second sec of 2026.
func entry(t *testing.T, p backend.Params, layer string, c backend.TileConfig, sec int) tune.Entry {
	t.Helper()
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	return tune.Entry{Kernel: p.Kernel(), Shape: p.Shape(), Params: raw, Layer: layer, Config: c, Default: "v=0",
		Ms: 5, DefaultMs: 10, Tuned: time.Date(2026, 1, 1, 0, 0, sec, 0, time.UTC)}
}

// fileEntries reads the cache file at path as JSON and returns its keys.
func fileEntries(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var f struct {
		Identity backend.TuneIdentity `json:"identity"`
		Entries  []tune.Entry         `json:"entries"`
	}
	require.NoError(t, json.Unmarshal(raw, &f), "valid JSON")
	var keys []string
	for _, e := range f.Entries {
		keys = append(keys, string(e.Kernel)+" "+e.Shape)
	}
	return keys
}

// TestCacheRoundTrip: stored entries load back as they were, a newer
// entry of a key replaces the older one and an older one does not.
func TestCacheRoundTrip(t *testing.T) {
	f := standardFake()
	defer f.Close()
	c := &tune.Cache{Dir: filepath.Join(t.TempDir(), "a", "b")}
	gemm := backend.Gemm{M: 3, N: 5, K: 7, TransA: 1, Alpha: 1}
	conv := backend.Conv2DBwdFilter{Conv2DShape: backend.NewConv2DShape(2, 3, 9, 9, 4, 3, 3, 2, 1)}
	want := []tune.Entry{entry(t, gemm, "fc.0", "v=1", 1), entry(t, conv, "conv.0", "v=4", 1)}
	require.NoError(t, c.Store(f.TuneIdentity(), want))
	got, err := c.Load(f)
	require.NoError(t, err)
	assert.Equal(t, map[backend.TuneKey]tune.Entry{backend.KeyOf(gemm): want[0], backend.KeyOf(conv): want[1]}, got)

	newer, older := entry(t, gemm, "fc.2", "v=4", 2), entry(t, conv, "conv.1", "v=1", 0)
	require.NoError(t, c.Store(f.TuneIdentity(), []tune.Entry{newer, older}))
	got, err = c.Load(f)
	require.NoError(t, err)
	assert.Equal(t, newer, got[backend.KeyOf(gemm)])
	assert.Equal(t, want[1], got[backend.KeyOf(conv)])

	p, err := got[backend.KeyOf(conv)].Dispatch()
	require.NoError(t, err)
	assert.Equal(t, conv, p)
	assert.Equal(t, []string{"conv2d_bwd_filter " + conv.Shape(), "gemm " + gemm.Shape()}, fileEntries(t, c.Path(f.TuneIdentity())))
}

// TestCachePath: one file per identity, named by backend and a hash.
func TestCachePath(t *testing.T) {
	c := &tune.Cache{Dir: "/x"}
	a := backend.TuneIdentity{Backend: "opencl", Device: "d", Driver: "1"}
	b := a
	b.Driver = "2"
	assert.Regexp(t, `^/x/opencl-[0-9a-f]{16}\.json$`, c.Path(a))
	assert.NotEqual(t, c.Path(a), c.Path(b))
	assert.Equal(t, c.Path(a), c.Path(a))
}

// TestDefaultDir is crossgrad/tune under XDG_CACHE_HOME.
func TestDefaultDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	got, err := tune.DefaultDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "crossgrad", "tune"), got)
}

// TestCacheCorruptFile: a corrupt file loads as empty with one log line;
// Prepare auto tunes again and rewrites it.
func TestCacheCorruptFile(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	f := newFake(fakeConfig{"v=0", fakeTile{ns: 10e6}}, fakeConfig{"v=1", fakeTile{ns: 5e6}})
	defer f.Close()
	log, lines := newLog()
	c := &tune.Cache{Dir: t.TempDir(), Log: log}
	path := c.Path(f.TuneIdentity())
	require.NoError(t, os.WriteFile(path, []byte(`{"format": "crossgrad-tune-1", "entries": [`), 0o644))
	got, err := c.Load(f)
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.Len(t, lines.lines("level=WARN", "ignoring cache file", "corrupt file", path), 1, lines.String())

	plan := smallPlan(t)
	res, err := tune.Prepare(f, plan, tune.Auto, tune.Options{Cache: c, Log: log, Budget: 30 * time.Second})
	require.NoError(t, err)
	for _, r := range res {
		assert.Equal(t, tune.FromTuning, r.Source)
	}
	assert.Len(t, fileEntries(t, path), len(smallPlanTargets), "rewritten")
	got, err = c.Load(f)
	require.NoError(t, err)
	assert.Len(t, got, len(smallPlanTargets))
}

// TestCacheForeignIdentity: a file of another identity at the path (a
// driver update) is ignored with a log line naming what differs.
func TestCacheForeignIdentity(t *testing.T) {
	f := standardFake()
	defer f.Close()
	log, lines := newLog()
	c := &tune.Cache{Dir: t.TempDir(), Log: log}
	other := f.TuneIdentity()
	other.Driver = "0.9"
	require.NoError(t, c.Store(other, []tune.Entry{entry(t, backend.Gemm{M: 1, N: 2, K: 3, Alpha: 1}, "fc", "v=1", 1)}))
	require.NoError(t, os.Rename(c.Path(other), c.Path(f.TuneIdentity())))
	got, err := c.Load(f)
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.Len(t, lines.lines("ignoring cache file", `driver \"0.9\", this device \"1.0\"`), 1, lines.String())
}

// TestCacheInvalidEntries: an entry the device refuses (CheckTile) and
// one that does not decode are each ignored with a log line; the valid
// one is kept, and Prepare cached sets only it.
func TestCacheInvalidEntries(t *testing.T) {
	f := newFake(fakeConfig{"v=0", fakeTile{ns: 10e6}}, fakeConfig{"v=1", fakeTile{ns: 5e6}},
		fakeConfig{"v=6", fakeTile{ns: 1e6, refuse: true}})
	defer f.Close()
	log, lines := newLog()
	c := &tune.Cache{Dir: t.TempDir(), Log: log}
	plan := smallPlan(t)
	tgs, err := tune.Targets(plan)
	require.NoError(t, err)
	good := entry(t, tgs[1].P, "fc.0", "v=1", 1)
	refused := entry(t, tgs[2].P, "fc.2", "v=6", 1)
	mismatch := entry(t, tgs[3].P, "fc.4", "v=1", 1)
	mismatch.Shape = "M9 N9 K9"
	file := map[string]any{"format": "crossgrad-tune-1", "identity": f.TuneIdentity(),
		"entries": []tune.Entry{good, refused, mismatch}}
	raw, err := json.Marshal(file)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(c.Path(f.TuneIdentity()), raw, 0o644))

	got, err := c.Load(f)
	require.NoError(t, err)
	assert.Equal(t, map[backend.TuneKey]tune.Entry{backend.KeyOf(tgs[1].P): good}, got)
	assert.Len(t, lines.lines("ignoring cache entry", `config="v=6"`, "beyond the device's limits"), 1, lines.String())
	assert.Len(t, lines.lines("ignoring cache entry", `shape="M9 N9 K9"`, "its params have shape"), 1, lines.String())

	res, err := tune.Prepare(f, plan, tune.Cached, tune.Options{Cache: c})
	require.NoError(t, err)
	for i, r := range res {
		if i == 1 {
			assert.Equal(t, tune.FromCache, r.Source)
			assert.Equal(t, backend.TileConfig("v=1"), f.tileSet(backend.KeyOf(r.P)))
			continue
		}
		assert.Equal(t, tune.FromDefault, r.Source, r.Layer)
		assert.Empty(t, f.tileSet(backend.KeyOf(r.P)))
	}
}

// writerEntries are n gemm entries of writer w, each of its own key.
func writerEntries(t *testing.T, w string, n int) []tune.Entry {
	base := map[string]int{"a": 100, "b": 200}[w]
	var out []tune.Entry
	for i := range n {
		out = append(out, entry(t, backend.Gemm{M: uint32(base + i), N: 4, K: 4, Alpha: 1}, "fc."+w, "v=1", 1))
	}
	return out
}

// storeEach stores entries one Store at a time.
func storeEach(t *testing.T, c *tune.Cache, id backend.TuneIdentity, entries []tune.Entry) {
	for _, e := range entries {
		require.NoError(t, c.Store(id, []tune.Entry{e}))
	}
}

// TestCacheTwoWritersGoroutines: two goroutines storing at once lose
// no entry.
func TestCacheTwoWritersGoroutines(t *testing.T) {
	f := standardFake()
	defer f.Close()
	c := &tune.Cache{Dir: t.TempDir()}
	var wg sync.WaitGroup
	for _, w := range []string{"a", "b"} {
		wg.Go(func() { storeEach(t, c, f.TuneIdentity(), writerEntries(t, w, 15)) })
	}
	wg.Wait()
	assert.Len(t, fileEntries(t, c.Path(f.TuneIdentity())), 30)
	got, err := c.Load(f)
	require.NoError(t, err)
	assert.Len(t, got, 30)
}

// Environment of the writer processes of TestCacheTwoWritersProcesses.
const (
	writerEnv    = "TUNE_TEST_WRITER"
	writerDirEnv = "TUNE_TEST_WRITER_DIR"
)

// TestCacheTwoWritersProcesses: two processes storing at once (this test
// binary run again as a writer) lose no entry.
func TestCacheTwoWritersProcesses(t *testing.T) {
	f := standardFake()
	defer f.Close()
	if w := os.Getenv(writerEnv); w != "" {
		storeEach(t, &tune.Cache{Dir: os.Getenv(writerDirEnv)}, f.TuneIdentity(), writerEntries(t, w, 15))
		return
	}
	dir := t.TempDir()
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for _, w := range []string{"a", "b"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCacheTwoWritersProcesses$", "-test.count=1")
		cmd.Env = append(os.Environ(), writerEnv+"="+w, writerDirEnv+"="+dir)
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		require.NoError(t, cmd.Start())
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, cmd := range cmds {
		require.NoError(t, cmd.Wait(), outs[i].String())
	}
	c := &tune.Cache{Dir: dir}
	keys := fileEntries(t, c.Path(f.TuneIdentity()))
	assert.Len(t, keys, 30)
	for _, base := range []int{100, 200} {
		assert.Contains(t, keys, "gemm M"+strconv.Itoa(base+14)+" N4 K4")
	}
}

// TestCacheUnwritableDir: a cache directory that cannot be created (its
// parent is a regular file) makes Prepare auto tune in memory, with one
// warning and no error.
func TestCacheUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	f := newFake(fakeConfig{"v=0", fakeTile{ns: 10e6}}, fakeConfig{"v=1", fakeTile{ns: 5e6}})
	defer f.Close()
	log, lines := newLog()
	c := &tune.Cache{Dir: filepath.Join(file, "tune"), Log: log}
	res, err := tune.Prepare(f, smallPlan(t), tune.Auto, tune.Options{Cache: c, Log: log, Budget: 30 * time.Second})
	require.NoError(t, err)
	for _, r := range res {
		assert.Equal(t, tune.FromTuning, r.Source)
		assert.Equal(t, backend.TileConfig("v=1"), f.tileSet(backend.KeyOf(r.P)))
	}
	assert.Len(t, lines.lines("level=WARN"), 1, lines.String())
	assert.Len(t, lines.lines("level=WARN", "kept in memory only", c.Dir), 1, lines.String())
}

// TestEntryDispatchErrors: entries that do not decode name the problem.
func TestEntryDispatchErrors(t *testing.T) {
	g := backend.Gemm{M: 3, N: 5, K: 7, Alpha: 1}
	ok := entry(t, g, "fc", "v=1", 1)
	p, err := ok.Dispatch()
	require.NoError(t, err)
	assert.Equal(t, g, p)
	cases := []struct {
		name string
		edit func(*tune.Entry)
		want string
	}{
		{"unknown kernel", func(e *tune.Entry) { e.Kernel = "winograd" }, `unknown kernel "winograd"`},
		{"untiled kernel", func(e *tune.Entry) { e.Kernel = backend.KReluFwd }, "relu_fwd is not tiled"},
		{"no params", func(e *tune.Entry) { e.Params = nil }, "params: missing"},
		{"bad JSON", func(e *tune.Entry) { e.Params = json.RawMessage(`{"M": "x"}`) }, "params: json"},
		{"unknown field", func(e *tune.Entry) { e.Params = json.RawMessage(`{"M": 3, "Q": 1}`) }, `unknown field "Q"`},
		{"invalid params", func(e *tune.Entry) { e.Params = json.RawMessage(`{"M": 0, "N": 5, "K": 7}`); e.Shape = "M0 N5 K7" }, "must be positive"},
		{"shape mismatch", func(e *tune.Entry) { e.Shape = "M3 N5 K8" }, `its params have shape "M3 N5 K7"`},
		{"conv params as gemm", func(e *tune.Entry) { e.Kernel = backend.KConv2DFwd }, `unknown field "M"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := ok
			c.edit(&e)
			_, err := e.Dispatch()
			assert.ErrorContains(t, err, c.want)
		})
	}
}

// TestParseMode accepts the three modes and names a bad value.
func TestParseMode(t *testing.T) {
	for _, m := range []tune.Mode{tune.Off, tune.Cached, tune.Auto} {
		got, err := tune.ParseMode(string(m))
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
	for _, bad := range []string{"", "on", "Auto"} {
		_, err := tune.ParseMode(bad)
		assert.EqualError(t, err, fmt.Sprintf("tune: unknown mode %q (want off, cached or auto)", bad))
	}
}

// TestSpeedup is DefaultMs/ChosenMs, 1 when either is unknown.
func TestSpeedup(t *testing.T) {
	assert.Equal(t, 2.5, tune.Result{DefaultMs: 5, ChosenMs: 2}.Speedup())
	assert.Equal(t, 1.0, tune.Result{DefaultMs: 5}.Speedup())
	assert.Equal(t, 1.0, tune.Result{ChosenMs: 5}.Speedup())
}
