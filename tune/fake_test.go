package tune_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
)

// fakeTile is how the fake tile engine runs one configuration.
type fakeTile struct {
	ns       int64                    // device time of one dispatch
	wrong    bool                     // adds 1 to the first output element
	wrongAt  backend.TuneKey          // adds 1 to the first output element of dispatches with this key only
	err      error                    // DispatchTile fails with it
	refuse   bool                     // CheckTile refuses it
	panics   bool                     // DispatchTile panics
	sleep    time.Duration            // wall time DispatchTile takes on top of the reference's
	byN      map[uint32]int64         // conv2d_fwd: device time at each batch (gemm: each Batch), in place of ns
	byKernel map[backend.Kernel]int64 // device time of a dispatch of each kernel, in place of ns
	coldAt   backend.TuneKey          // the first dispatch with this key adds coldNs (a driver's build at a new shape)
	coldNs   int64
}

// call is one tiled dispatch the fake ran: its configuration and key.
type call struct {
	c   backend.TileConfig
	key backend.TuneKey
}

// fakeTuner is the reference device with a fake tile engine: a list of
// configurations (the first is the default) whose device times, errors
// and wrong results are fixed, and timers that report those times.
type fakeTuner struct {
	*ref.Device
	id    backend.TuneIdentity
	order []backend.TileConfig
	tiles map[backend.TileConfig]fakeTile

	mu    sync.Mutex
	set   map[backend.TuneKey]backend.TileConfig
	ns    int64
	calls []call
	info  *backend.Info // reported instead of the reference's when set
	// coldNs is the device time the first dispatch of each untiled kernel
	// (the Winograd transforms) adds, as a driver's build of it at its
	// first dispatch; built lists those dispatched.
	coldNs int64
	built  map[backend.Kernel]bool
	// coldTiles are the configurations that paid their fakeTile.coldNs.
	coldTiles map[backend.TileConfig]bool
	// zeroFills, when set, counts the Fill dispatches of zeros into each
	// buffer.
	zeroFills map[backend.Buffer]int
	// slow counts, per key, the next tiled dispatches that add slowNs (a
	// noisy host's disturbed runs).
	slow   map[backend.TuneKey]int
	slowNs int64
}

// fakeConfig is one configuration of newFake.
type fakeConfig struct {
	c backend.TileConfig
	t fakeTile
}

func newFake(cfgs ...fakeConfig) *fakeTuner {
	f := &fakeTuner{Device: ref.New(), tiles: map[backend.TileConfig]fakeTile{}, set: map[backend.TuneKey]backend.TileConfig{},
		id: backend.TuneIdentity{Backend: "fake", Vendor: "test", Device: "fake0", Driver: "1.0", Sources: "src1", Limits: "wg=256"}}
	for _, c := range cfgs {
		f.order = append(f.order, c.c)
		f.tiles[c.c] = c.t
	}
	return f
}

// standardFake has the configurations of most tests: v=0 the default
// (10 ms), v=1 correct and fastest among the correct (5 ms), v=2 wrong and
// the fastest of all (1 ms), v=3 failing, v=4 correct and slower (20 ms).
func standardFake() *fakeTuner {
	return newFake(
		fakeConfig{"v=0", fakeTile{ns: 10e6}},
		fakeConfig{"v=1", fakeTile{ns: 5e6}},
		fakeConfig{"v=2", fakeTile{ns: 1e6, wrong: true}},
		fakeConfig{"v=3", fakeTile{ns: 2e6, err: errors.New("fake: kernel build failed")}},
		fakeConfig{"v=4", fakeTile{ns: 20e6}},
	)
}

func (f *fakeTuner) TuneIdentity() backend.TuneIdentity { return f.id }

func (f *fakeTuner) Info() backend.Info {
	if f.info != nil {
		return *f.info
	}
	return f.Device.Info()
}

func (f *fakeTuner) DefaultTile(backend.Params) backend.TileConfig { return f.order[0] }

func (f *fakeTuner) TileCandidates(backend.Params) []backend.TileConfig { return slices.Clone(f.order) }

func (f *fakeTuner) CheckTile(_ backend.Params, c backend.TileConfig) error {
	t, ok := f.tiles[c]
	switch {
	case !ok:
		return fmt.Errorf("fake: unknown configuration %q", c)
	case t.refuse:
		return fmt.Errorf("fake: configuration %q is beyond the device's limits", c)
	}
	return nil
}

func (f *fakeTuner) DispatchTile(c backend.TileConfig, p backend.Params, bufs ...backend.Buffer) error {
	if err := f.CheckTile(p, c); err != nil {
		return err
	}
	t := f.tiles[c]
	f.mu.Lock()
	f.calls = append(f.calls, call{c, backend.KeyOf(p)})
	f.mu.Unlock()
	if t.panics {
		panic("fake: configuration " + string(c) + " crashed")
	}
	if t.err != nil {
		return t.err
	}
	time.Sleep(t.sleep)
	if err := f.Device.Dispatch(p, bufs...); err != nil {
		return err
	}
	if t.wrong || t.wrongAt == backend.KeyOf(p) {
		for i, b := range p.Buffers() {
			if b.Access.Writes() {
				v := make([]float32, 1)
				if err := f.Device.Read(bufs[i], 0, v); err != nil {
					return err
				}
				v[0]++
				if err := f.Device.Write(bufs[i], 0, v); err != nil {
					return err
				}
				break
			}
		}
	}
	f.mu.Lock()
	ns := t.ns
	if q, err := backend.ParamsAs[backend.Conv2DFwd](p); err == nil && t.byN != nil {
		ns = t.byN[q.N]
	}
	if q, err := backend.ParamsAs[backend.Gemm](p); err == nil && t.byN != nil {
		ns = t.byN[uint32(q.Batches())]
	}
	if v, ok := t.byKernel[p.Kernel()]; ok {
		ns = v
	}
	if t.coldNs != 0 && t.coldAt == backend.KeyOf(p) && !f.coldTiles[c] {
		if f.coldTiles == nil {
			f.coldTiles = map[backend.TileConfig]bool{}
		}
		f.coldTiles[c] = true
		ns += t.coldNs
	}
	if key := backend.KeyOf(p); f.slow[key] > 0 {
		f.slow[key]--
		ns += f.slowNs
	}
	f.ns += ns
	f.mu.Unlock()
	return nil
}

func (f *fakeTuner) SetTile(p backend.Params, c backend.TileConfig) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c == "" {
		delete(f.set, backend.KeyOf(p))
		return nil
	}
	if err := f.CheckTile(p, c); err != nil {
		return err
	}
	f.set[backend.KeyOf(p)] = c
	return nil
}

// Dispatch runs tiled kernels with the configuration set for their key;
// an untiled kernel's first dispatch adds coldNs.
func (f *fakeTuner) Dispatch(p backend.Params, bufs ...backend.Buffer) error {
	if !backend.IsTiled(p.Kernel()) {
		f.mu.Lock()
		if f.built == nil {
			f.built = map[backend.Kernel]bool{}
		}
		if !f.built[p.Kernel()] {
			f.built[p.Kernel()] = true
			f.ns += f.coldNs
		}
		if q, ok := p.(backend.Fill); ok && q.Value == 0 && f.zeroFills != nil {
			f.zeroFills[bufs[0]]++
		}
		f.mu.Unlock()
		return f.Device.Dispatch(p, bufs...)
	}
	f.mu.Lock()
	c, ok := f.set[backend.KeyOf(p)]
	f.mu.Unlock()
	if !ok {
		c = f.order[0]
	}
	return f.DispatchTile(c, p, bufs...)
}

// KernelTimes reports the fake device times of the dispatches since the
// last call.
func (f *fakeTuner) KernelTimes() (map[backend.Kernel]backend.KernelTime, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[backend.Kernel]backend.KernelTime{backend.KGemm: {Nanos: f.ns, Count: 1}}
	f.ns = 0
	return out, nil
}

// tileSet is the configuration set for key, "" when none.
func (f *fakeTuner) tileSet(key backend.TuneKey) backend.TileConfig {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.set[key]
}

// callsOf lists the keys c was dispatched with, in order.
func (f *fakeTuner) callsOf(c backend.TileConfig) []backend.TuneKey {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []backend.TuneKey
	for _, k := range f.calls {
		if k.c == c {
			out = append(out, k.key)
		}
	}
	return out
}

// logBuffer collects the lines of a logger.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the lines logged so far that contain every one of subs.
func (l *logBuffer) lines(subs ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.buf.String(), "\n") {
		ok := line != ""
		for _, s := range subs {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newLog returns a debug-level text logger writing into a logBuffer.
func newLog() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}
