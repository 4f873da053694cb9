package tune

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
)

// Timing: after a warm-up run (which also builds the configuration; after
// a warm-up of at least longTotalMs one run more, see timeAfter), a
// configuration runs until it has at least minRuns runs and minTotalMs of
// device time, or maxRuns runs, or longTotalMs of device time (a kernel of
// a second at the real shape is timed by few runs: the search can afford more
// candidates instead), or as soon as one run is slowerFactor times the
// best time so far by the device timers (it cannot win; host clocks are
// too noisy for one run to decide); its time is the median run.
const (
	minRuns      = 3
	maxRuns      = 10
	minTotalMs   = 20.0
	longTotalMs  = 150.0
	slowerFactor = 1.3
)

// bench holds one target's buffers at the real shape, allocated by the
// tuner itself and filled with the inputs of backendtest.TiledCase.
type bench struct {
	dev   backend.Device
	t     backend.Tuner
	p     backend.Params
	bufs  []backend.Buffer
	outs  []int               // the written slots
	init  [][]float32         // initial contents of the written slots (by slot; nil for the others)
	want  [][]float32         // the default configuration's outputs, nil when there is no reference
	timer backend.KernelTimer // nil: wall clock around Dispatch and Sync
}

// newBench allocates p's buffers on dev and writes their inputs.
func newBench(dev backend.Device, t backend.Tuner, p backend.Params) (*bench, error) {
	c, err := backendtest.TiledCase("tune_real", p)
	if err != nil {
		return nil, err
	}
	in := c.Inputs()
	b := &bench{dev: dev, t: t, p: c.Params, outs: c.Outputs(), init: make([][]float32, len(in))}
	for i, v := range in {
		buf, err := dev.Alloc(len(v))
		if err != nil {
			b.release()
			return nil, fmt.Errorf("allocating buffer %d (%d elements): %w", i, len(v), err)
		}
		b.bufs = append(b.bufs, buf)
		if err := dev.Write(buf, 0, v); err != nil {
			b.release()
			return nil, fmt.Errorf("writing buffer %d: %w", i, err)
		}
	}
	for _, o := range b.outs {
		b.init[o] = in[o]
	}
	if kt, ok := dev.(backend.KernelTimer); ok {
		_, err := kt.KernelTimes()
		switch {
		case err == nil:
			b.timer = kt
		case !errors.Is(err, backend.ErrUnsupported):
			b.release()
			return nil, fmt.Errorf("reading the kernel timers: %w", err)
		}
	}
	return b, nil
}

// release frees every buffer.
func (b *bench) release() {
	for _, buf := range b.bufs {
		buf.Release()
	}
	b.bufs = nil
}

// run restores the written buffers, dispatches p with c (the warm-up
// run, timed as once) and reads the outputs back (by slot; nil for the
// read-only slots).
func (b *bench) run(c backend.TileConfig) ([][]float32, float64, error) {
	for _, o := range b.outs {
		if err := b.dev.Write(b.bufs[o], 0, b.init[o]); err != nil {
			return nil, 0, fmt.Errorf("restoring buffer %d: %w", o, err)
		}
	}
	ms, err := b.once(c)
	if err != nil {
		return nil, 0, err
	}
	got := make([][]float32, len(b.bufs))
	for _, o := range b.outs {
		got[o] = make([]float32, b.bufs[o].Len())
		if err := b.dev.Read(b.bufs[o], 0, got[o]); err != nil {
			return nil, 0, fmt.Errorf("reading buffer %d: %w", o, err)
		}
	}
	return got, ms, nil
}

// timeAfter is time for c whose warm-up run took warmMs: when that run
// alone reaches longTotalMs, the faster of it and one more run (the only
// one when the budget's end, hard, has passed), else time's median, which
// stops at deadline (the target's share). The warm-up at the real shape
// may include a driver's build: lavapipe builds a variant of a
// texel-buffer kernel for each class of buffer sizes at its first
// dispatch, so fc.3's A^T product with 4-wide texels read 5028 ms at its
// warm-up and 50-70 ms after it (BenchmarkTransposedGemmTiles). A kernel
// that really takes seconds costs the search one run more. That run may
// pass the share: a target of little arithmetic (cpu-quick's fc.0
// forward, a share of about a second) spends it on one candidate's build,
// and taking the build for the kernel's time (1275 ms where the default
// ran 35 and the candidate 5) would throw away the one candidate it paid
// for.
func (b *bench) timeAfter(c backend.TileConfig, warmMs float64, deadline, hard time.Time, bestMs float64) (float64, error) {
	if warmUpIsTiming(warmMs) {
		if !time.Now().Before(hard) {
			return warmMs, nil
		}
		ms, err := b.once(c)
		if err != nil {
			return 0, err
		}
		return min(warmMs, ms), nil
	}
	return b.time(c, deadline, bestMs)
}

// warmUpIsTiming reports whether a warm-up run of ms (by the device
// timers) is long enough to stand in for more runs: longTotalMs or more, a
// kernel whose every further run costs the search as much again.
func warmUpIsTiming(ms float64) bool { return ms >= longTotalMs }

// compare checks got against the default's outputs within twice the
// kernel's tolerance (both differ from the exact result).
func (b *bench) compare(got [][]float32) error {
	tol := backendtest.ToleranceFor(b.p)
	tol.Atol, tol.Rtol = 2*tol.Atol, 2*tol.Rtol
	roles := b.p.Buffers()
	for _, o := range b.outs {
		for i, w := range b.want[o] {
			if g := got[o][i]; !tol.Within(float64(g), float64(w)) {
				return fmt.Errorf("output %s[%d] is %v, the default configuration gives %v (tolerance %g + %g*|ref|)",
					roles[o].Name, i, g, w, tol.Atol, tol.Rtol)
			}
		}
	}
	return nil
}

// time runs c (already warmed up) as the timing rule says, stopping early
// after one run once deadline has passed or when it is clearly slower than
// bestMs (0: no best yet), and returns the median in ms.
func (b *bench) time(c backend.TileConfig, deadline time.Time, bestMs float64) (float64, error) {
	var runs []float64
	total := 0.0
	for len(runs) < maxRuns && (len(runs) < minRuns || total < minTotalMs) && total < longTotalMs {
		if len(runs) > 0 && (!time.Now().Before(deadline) || (b.timer != nil && bestMs > 0 && runs[0] > slowerFactor*bestMs)) {
			break
		}
		ms, err := b.once(c)
		if err != nil {
			return 0, err
		}
		runs = append(runs, ms)
		total += ms
	}
	slices.Sort(runs)
	return runs[len(runs)/2], nil
}

// once is the device time of one dispatch with c in ms: every kernel the
// device timed between two reads of its timers (a backend may run a
// dispatch as several kernels).
func (b *bench) once(c backend.TileConfig) (float64, error) {
	if b.timer == nil {
		start := time.Now()
		if err := b.t.DispatchTile(c, b.p, b.bufs...); err != nil {
			return 0, err
		}
		if err := b.dev.Sync(); err != nil {
			return 0, err
		}
		return float64(time.Since(start).Nanoseconds()) / 1e6, nil
	}
	if _, err := b.timer.KernelTimes(); err != nil {
		return 0, err
	}
	if err := b.t.DispatchTile(c, b.p, b.bufs...); err != nil {
		return 0, err
	}
	times, err := b.timer.KernelTimes()
	if err != nil {
		return 0, err
	}
	var ns int64
	for _, kt := range times {
		ns += kt.Nanos
	}
	return float64(ns) / 1e6, nil
}
