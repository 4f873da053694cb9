// Package tune chooses, per device, the tile configuration of every tiled
// dispatch (gemm and the three convolutions) a training plan makes: it
// checks each candidate of the device's tile engine against the reference
// on small cases, times the survivors at the real shape with the device
// timers, keeps the fastest within a time budget, and caches the result per
// device, driver and kernel sources under the user cache directory.
package tune

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/graph"
)

// Mode is the value of the configuration key tune.
type Mode string

// The modes.
const (
	// Off runs every dispatch with the device's default configuration.
	Off Mode = "off"
	// Cached uses the cached configurations where present, defaults elsewhere.
	Cached Mode = "cached"
	// Auto tunes what the cache lacks before the first step, within a budget.
	Auto Mode = "auto"
)

// DefaultBudget is the default of tune_budget.
const DefaultBudget = 60 * time.Second

// ParseMode returns the Mode named s, or an error naming s and the modes.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Off, Cached, Auto:
		return m, nil
	}
	return "", fmt.Errorf("tune: unknown mode %q (want %s, %s or %s)", s, Off, Cached, Auto)
}

// Target is one distinct tiled dispatch of a plan (by backend.KeyOf).
type Target struct {
	Layer string         // the layer that first dispatches it, e.g. "conv.0"
	Phase string         // graph.PhaseForward or graph.PhaseBackward
	P     backend.Params // the dispatch
	// Alternative marks a dispatch of the convolution algorithm a pass
	// does not run now (timed both ways after the tiles): its share of
	// the budget is weighted by alternativeWeight.
	Alternative bool
}

// Targets lists the distinct tiled dispatches of one full-batch training
// step of plan, in step order.
func Targets(plan *graph.Plan) ([]Target, error) { return targetsOf(plan) }

// Source says where a Result's configuration came from.
type Source string

// The sources.
const (
	FromTuning   Source = "tuned"    // timed now
	FromCache    Source = "cache"    // a valid cached entry
	FromDefault  Source = "default"  // tune off, no cache entry, or the default was fastest
	FromFallback Source = "fallback" // every candidate failed its check: the default, with Warning
)

// Result is the configuration one target runs with.
type Result struct {
	Target
	Default, Chosen     backend.TileConfig
	DefaultMs, ChosenMs float64 // device time at the real shape (cached figures for FromCache; 0 when never timed)
	Source              Source
	Tried, Failed       int    // candidates timed (the default included), candidates discarded (check, real-shape run or mismatch with the default)
	Warning             string // why a fallback happened or the default fails its check (kernel and first failure), else ""
}

// Speedup is DefaultMs / ChosenMs, or 1 when either is unknown.
func (r Result) Speedup() float64 {
	if r.DefaultMs == 0 || r.ChosenMs == 0 {
		return 1
	}
	return r.DefaultMs / r.ChosenMs
}

// Options configure Tune and Prepare.
type Options struct {
	// Budget bounds the whole search (checks, builds and timing); <= 0
	// means DefaultBudget. The best configuration found so far is kept when
	// it runs out (a candidate already started, whose program build cannot
	// be interrupted, is finished first).
	Budget time.Duration
	// Cache stores and supplies results; nil keeps them in memory only.
	Cache *Cache
	// Log receives the lines tuning writes (nil: discarded).
	Log *slog.Logger
	// Progress, when set, is called after each target with the number done,
	// the total and the target's description.
	Progress func(done, total int, what string)
}

// Tune tunes every target on dev (a backend.Tuner), sets each chosen
// configuration on dev (SetTile), stores the results in o.Cache and returns
// one Result per target, in order. dev stays owned by the caller; every
// buffer Tune allocates is released.
func Tune(dev backend.Device, targets []Target, o Options) ([]Result, error) {
	return tuneAll(dev, targets, o)
}

// Prepare applies mode to dev for plan's targets: Off sets nothing and
// returns FromDefault results; Cached sets the valid cached entries; Auto
// also tunes, within o.Budget, the targets the cache lacks and stores them.
// When plan's conv_algo is auto, Cached and Auto also choose the algorithm
// of each convolution pass that can run both ways (plan.SetConvAlgo): the
// cached choice, else in Auto the faster of the two timed on dev with the
// chosen tiles (stored next to them); the targets then include both
// algorithms' tiled dispatches. A dev that is no backend.Tuner (the
// reference) gets no results and no error. plan must have been made on
// dev (or on a wrapper of it).
func Prepare(dev backend.Device, plan *graph.Plan, mode Mode, o Options) ([]Result, error) {
	return prepare(dev, plan, mode, o)
}

// ChooseAlgos times, when plan's conv_algo is auto, both algorithms of
// every convolution pass of plan that can run both ways, with the tile
// configurations set on dev now (after Tune), makes plan run the faster
// (SetConvAlgo), stores the choices in o.Cache (beside the tiles, where
// tune: cached and auto find them) and returns them in plan order. It
// times each pass once or more (twice when its first run was the first
// dispatch of one of its kernels) and is not bounded by o.Budget (give
// Tune TileBudget of the whole budget to leave it its part); an
// implicit-GEMM pass whose dispatch tuned (the results of Tune just
// before, on dev) timed at the real shape is not timed again. A dev that
// is no backend.Tuner gets no choices and no error.
func ChooseAlgos(dev backend.Device, plan *graph.Plan, tuned []Result, o Options) ([]AlgoChoice, error) {
	t, ok := dev.(backend.Tuner)
	if !ok {
		return nil, nil
	}
	return chooseAlgos(dev, t, plan, Auto, nil, measuredNow(tuned), o, orDiscard(o.Log))
}

// Check runs the conformance check of p's kernel with configuration c on
// dev against the reference device, on small cases of p's structure (the
// same transposes, kernel size, stride and padding; odd sizes, batch 1,
// NaN-poisoned outputs); nil when every case passes.
func Check(dev backend.Device, p backend.Params, c backend.TileConfig) error {
	return check(dev, p, c)
}

// Entry is one cached result.
type Entry struct {
	Kernel    backend.Kernel     `json:"kernel"`
	Shape     string             `json:"shape"`
	Params    json.RawMessage    `json:"params"` // the dispatch's params struct as JSON
	Layer     string             `json:"layer"`
	Config    backend.TileConfig `json:"config"`
	Default   backend.TileConfig `json:"default"`
	Ms        float64            `json:"ms"`
	DefaultMs float64            `json:"default_ms"`
	Tuned     time.Time          `json:"tuned"`
	// Algo is, in an algorithm choice (Kernel AlgoPrefix + the convolution
	// kernel; Config empty), the faster algorithm (graph.ConvGemm or
	// graph.ConvWinograd): Ms is its time, DefaultMs implicit GEMM's.
	Algo string `json:"algo,omitempty"`
}

// Dispatch decodes e.Params into the params struct of e.Kernel; an error
// when the kernel is unknown or untiled, the JSON does not decode, or its
// shape is not e.Shape.
func (e Entry) Dispatch() (backend.Params, error) { return e.decode() }

// Cache is the store of tuned configurations: one JSON file per
// backend.TuneIdentity under Dir (named by the backend and a hash of the
// identity; it holds a format tag, the identity and the entries), written
// atomically (temporary file, fsync, rename) under a flock on a lock file
// beside it, so that two processes may tune at once. A Cache may be used
// by several goroutines.
type Cache struct {
	Dir string       // the directory of the files (DefaultDir for the user's)
	Log *slog.Logger // receives the lines about ignored files and entries (nil: discarded)

	unusable atomic.Bool // the in-memory warning was logged (a directory that cannot be read or written)
}

// DefaultDir is the default cache directory: crossgrad/tune under
// os.UserCacheDir ($XDG_CACHE_HOME, else ~/.cache).
func DefaultDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("tune: no user cache directory (set XDG_CACHE_HOME or HOME): %w", err)
	}
	return filepath.Join(base, "crossgrad", "tune"), nil
}

// Path is the file holding the entries of identity id.
func (c *Cache) Path(id backend.TuneIdentity) string { return filepath.Join(c.Dir, fileName(id)) }

// Load returns the valid entries for dev (a backend.Tuner): a missing
// file is empty; a corrupt file, one of another identity, or an entry dev
// cannot run (CheckTile) is ignored with a log line.
func (c *Cache) Load(dev backend.Tuner) (map[backend.TuneKey]Entry, error) {
	return c.load(dev)
}

// Store merges entries into the file of identity id (newer entries of the
// same key replace older ones), atomically and under a lock.
func (c *Cache) Store(id backend.TuneIdentity, entries []Entry) error { return c.store(id, entries) }
