package bench

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/parallel"
	"github.com/crossgrad/crossgrad/train"
	"github.com/crossgrad/crossgrad/tune"
)

// Goals of issue 12 for the data-parallel step, as fractions.
const (
	// OverheadGoal bounds the host-staged reduction: Reduce over the
	// slowest replica's Compute, at the cpu-quick shape.
	OverheadGoal = 0.10
	// BalanceGoal bounds |tA - tB| / max(tA, tB) of the replicas' Compute
	// after balancing.
	BalanceGoal = 0.15
)

// ParallelOptions configure RunParallel.
type ParallelOptions struct {
	// Targets are this process's replicas' devices, in order (ReplicaTargets).
	Targets []backend.Info
	// Config gives the model as in Options; BatchSize is the global batch,
	// over every replica of every rank.
	Config config.Config
	// Shares fixes the replicas' shares (device_shares); empty balances them
	// in up to parallel.BalanceRounds rounds of BalanceSteps steps, which
	// then run untimed.
	Shares []float64
	// BalanceSteps as parallel.Options (0: 3).
	BalanceSteps int
	// Runs timed steps after Warmup untimed ones (0: 5 and 1; Warmup < 0
	// means none).
	Runs, Warmup int
	// Reducer sums across ranks (an MPI communicator); nil measures this
	// process only.
	Reducer parallel.Reducer
	// Open opens a device by its ID (nil: backend.Open).
	Open func(id string) (backend.Device, error)
	// Log receives progress lines (nil: none); Logger the group's records
	// (balancing; nil: written to Log).
	Log    io.Writer
	Logger *slog.Logger
	// Version and Command stamp the report.
	Version, Command string
	// NoAlone skips each device's run alone (the group has no speed-up).
	NoAlone bool
}

// ReplicaTargets resolves the entries of --devices (key devices) to one
// device each: an entry that selects several ("opencl") takes the first.
// An unknown entry is an error listing what exists; a device named twice
// is an error naming both entries.
func ReplicaTargets(specs []string) ([]backend.Info, error) {
	if len(specs) == 0 {
		return nil, errors.New("devices: no device named; give e.g. --devices opencl:0,vulkan:0")
	}
	var out []backend.Info
	by := map[string]string{}
	for _, s := range specs {
		cands, err := backend.Select(s)
		if err != nil {
			return nil, fmt.Errorf("devices: %w; fix the entry %q of --devices (key devices)", err, s)
		}
		id := cands[0].ID()
		if prev, ok := by[id]; ok {
			return nil, fmt.Errorf("devices: %s is named twice (%q and %q); name each device once in --devices (key devices)", id, prev, s)
		}
		by[id] = s
		out = append(out, cands[0])
	}
	return out, nil
}

func (o ParallelOptions) withDefaults() ParallelOptions {
	base := Options{Runs: o.Runs, Warmup: o.Warmup, Open: o.Open, Log: o.Log, Logger: o.Logger, Version: o.Version}.withDefaults()
	o.Runs, o.Warmup, o.Open, o.Log, o.Logger, o.Version = base.Runs, base.Warmup, base.Open, base.Log, base.Logger, base.Version
	if o.BalanceSteps <= 0 {
		o.BalanceSteps = 3
	}
	if len(o.Shares) == 0 {
		o.Shares = nil
	}
	return o
}

// check refuses what cannot run: no replica, one replica without ranks,
// shares that do not match the devices, a batch smaller than the replicas.
func (o ParallelOptions) check(ranks int) error {
	n := len(o.Targets)
	switch {
	case n == 0:
		return errors.New("devices: no device to train on; give --devices opencl:0,vulkan:0")
	case n == 1 && ranks == 1:
		return fmt.Errorf("devices: one device (%s) in one process is the plain training step (bench --device %s); name two or more in --devices, or run under mpirun with --distributed mpi",
			o.Targets[0].ID(), o.Targets[0].ID())
	case o.Shares != nil && len(o.Shares) != n:
		return fmt.Errorf("device_shares: %d shares for %d devices; give one positive weight per entry of --devices", len(o.Shares), n)
	case o.Config.BatchSize < n*ranks:
		return fmt.Errorf("batch_size: %d images cannot be split over %d replicas (%d devices x %d ranks); raise --batch to at least %d",
			o.Config.BatchSize, n*ranks, n, ranks, n*ranks)
	}
	for i, s := range o.Shares {
		if !(s > 0) {
			return fmt.Errorf("device_shares: share %d (%g, for %s) must be positive", i+1, s, o.Targets[i].ID())
		}
	}
	return nil
}

// RunParallel measures data-parallel training steps at the global batch
// Config.BatchSize: each device alone (graph.Plan.TrainStep), this
// process's devices together (parallel.Group) and, with a Reducer, every
// rank together, rank 0 alone first while the others wait. Every rank
// calls it with the same options but its own Targets; the report is
// complete on rank 0. A run that fails is reported in its row; RunParallel
// fails on bad options, a device that does not open, a failure of the
// Reducer or ranks that run different benchmarks.
func RunParallel(ctx context.Context, opts ParallelOptions) (*ParallelReport, error) {
	o := opts.withDefaults()
	rank, ranks := 0, 1
	if o.Reducer != nil {
		rank, ranks = o.Reducer.Rank(), o.Reducer.Size()
	}
	if err := o.check(ranks); err != nil {
		return nil, err
	}
	c := o.Config
	rep := &ParallelReport{Stamp: NewStamp(o.Version, o.Command), Ranks: ranks, Settings: Settings{
		Model: c.Model, InputSize: c.InputSize, Width: c.Width, GPUBatch: c.BatchSize, CPUBatch: c.BatchSize,
		Runs: o.Runs, Warmup: o.Warmup, Seed: c.Seed, Tune: c.Tune}}
	devs := make([]backend.Device, 0, len(o.Targets))
	defer func() {
		for _, d := range devs {
			d.Close()
		}
	}()
	for _, info := range o.Targets {
		d, err := o.Open(info.ID())
		if err != nil {
			return nil, fmt.Errorf("devices: opening %s: %w", info.ID(), err)
		}
		devs = append(devs, d)
	}
	rep.Note = sharedCoresNote(o.Targets)
	imgs, labels, err := globalBatch(c)
	if err != nil {
		return nil, err
	}
	m := &parallelBench{o: o, devs: devs, images: imgs, labels: labels}
	if rank == 0 {
		var best float64
		for i := range devs {
			if ctx.Err() != nil || o.NoAlone {
				break
			}
			r := m.alone(i)
			best = max(best, r.ImagesPerSec.Median)
			rep.Runs = append(rep.Runs, r)
		}
		if len(devs) > 1 && ctx.Err() == nil {
			label := fmt.Sprintf("%d devices", len(devs))
			if ranks > 1 {
				label = "rank 0 alone"
			}
			r := m.group(label, nil)
			r.SpeedUp = ratio(r.ImagesPerSec.Median, best)
			rep.Runs = append(rep.Runs, r)
		}
	}
	defer func() { rep.Stamp.LoadAfter = loadAvg() }()
	if o.Reducer == nil {
		return rep, ctx.Err()
	}
	if err := agreeOn(o.Reducer, o, ranks); err != nil {
		return nil, err
	}
	r := m.group(fmt.Sprintf("%d ranks", ranks), o.Reducer)
	if r.Err != "" {
		return nil, fmt.Errorf("bench: %s: %s", r.Label, r.Err)
	}
	if err := gatherRankCompute(o.Reducer, &r); err != nil {
		return nil, err
	}
	if rank == 0 {
		var solo float64
		for _, p := range rep.Runs {
			if p.Ranks == 1 && (len(devs) == 1 || len(p.Devices) == len(devs)) {
				solo = p.ImagesPerSec.Median
			}
		}
		r.SpeedUp = ratio(r.ImagesPerSec.Median, solo)
	}
	rep.Runs = append(rep.Runs, r)
	return rep, nil
}

// parallelBench holds the opened devices and the global batch.
type parallelBench struct {
	o              ParallelOptions
	devs           []backend.Device
	images, labels []float32
}

// alone times graph.Plan.TrainStep on device i at the global batch: the
// step crossgrad trains with on one device.
func (m *parallelBench) alone(i int) ParallelRun {
	c, info := m.o.Config, m.o.Targets[i]
	r := ParallelRun{Label: info.ID() + " alone", Devices: []string{info.ID()}, Ranks: 1, Batch: c.BatchSize}
	fmt.Fprintf(m.o.Log, "bench: %s alone (%d+%d steps at batch %d)\n", info.ID(), m.o.Warmup, m.o.Runs, c.BatchSize)
	plan, err := m.planModel(m.devs[i], c.BatchSize)
	if err != nil {
		r.Err = "planning: " + err.Error()
		return r
	}
	defer plan.Close()
	if err := plan.UploadPacked(m.images, m.labels); err != nil {
		r.Err = err.Error()
		return r
	}
	var walls []float64
	for s := 1; s <= m.o.Warmup+m.o.Runs; s++ {
		t0 := time.Now()
		if _, err := plan.TrainStep(s, c.BatchSize); err != nil {
			r.Err = fmt.Sprintf("step %d: %v", s, err)
			return r
		}
		if s > m.o.Warmup {
			walls = append(walls, ms(time.Since(t0)))
		}
	}
	r.setWall(walls)
	return r
}

// group times parallel.Group.TrainStep over every device of this process,
// and over the ranks with red.
func (m *parallelBench) group(label string, red parallel.Reducer) ParallelRun {
	c, o := m.o.Config, m.o
	ranks := 1
	if red != nil {
		ranks = red.Size()
	}
	r := ParallelRun{Label: label, Ranks: ranks, Batch: c.BatchSize}
	for _, t := range o.Targets {
		r.Devices = append(r.Devices, t.ID())
	}
	untimed := o.Warmup
	if o.Shares == nil {
		untimed += parallel.BalanceRounds * o.BalanceSteps // the same count on every rank, balanced or not
	}
	fmt.Fprintf(o.Log, "bench: %s: %d replicas x %d ranks (%d+%d steps at global batch %d)\n", label, len(m.devs), ranks, untimed, o.Runs, c.BatchSize)
	capacity := (c.BatchSize + ranks - 1) / ranks
	var plans []*graph.Plan
	defer func() {
		for _, p := range plans {
			p.Close()
		}
	}()
	for i, d := range m.devs {
		p, err := m.planModel(d, capacity)
		if err != nil {
			r.Err = fmt.Sprintf("planning on %s: %v", o.Targets[i].ID(), err)
			return failGroup(r, red)
		}
		plans = append(plans, p)
	}
	g, err := parallel.New(plans, parallel.Options{Names: r.Devices, Shares: o.Shares, BalanceSteps: o.BalanceSteps, Reducer: red, Log: o.Logger})
	if err != nil {
		r.Err = err.Error()
		return failGroup(r, red)
	}
	var walls []float64
	var timings []parallel.Timing
	for s := 1; s <= untimed+o.Runs; s++ {
		t0 := time.Now()
		st, err := g.TrainStep(s, m.images, m.labels)
		if err == nil && st.N != c.BatchSize {
			err = fmt.Errorf("the step reported %d images, want %d", st.N, c.BatchSize)
		}
		if err != nil {
			r.Err = fmt.Sprintf("step %d: %v", s, err)
			return failGroup(r, red)
		}
		if s > untimed {
			walls = append(walls, ms(time.Since(t0)))
			timings = append(timings, g.LastTiming())
		}
	}
	if err := g.Check(); err != nil {
		r.Err = err.Error()
		failGroup(r, red)
	}
	r.setWall(walls)
	r.setTimings(timings, g.Shares())
	return r
}

// failGroup tells the other ranks that this rank's run failed, so that
// none waits for it.
func failGroup(r ParallelRun, red parallel.Reducer) ParallelRun {
	if f, ok := red.(interface{ Fail(string) }); ok {
		f.Fail(r.Label + ": " + r.Err)
	}
	return r
}

// gatherRankCompute fills r.RankCompute through the Reducer: each rank
// adds its slowest replica's median Compute in its own slot of a zeroed
// buffer.
func gatherRankCompute(red parallel.Reducer, r *ParallelRun) error {
	buf := make([]float32, red.Size())
	var slowest float64
	for _, rr := range r.Replicas {
		slowest = max(slowest, rr.Compute.Median)
	}
	buf[red.Rank()] = float32(slowest)
	if err := red.AllreduceSum(buf); err != nil {
		return fmt.Errorf("bench: gathering the ranks' step times: %w", err)
	}
	r.RankCompute = make([]float64, len(buf))
	for i, v := range buf {
		r.RankCompute[i] = float64(v)
	}
	return nil
}

// agreeOn makes every rank wait for rank 0's runs alone and refuses ranks
// that benchmark differently (model, shape, batch, runs, devices count).
func agreeOn(red parallel.Reducer, o ParallelOptions, ranks int) error {
	c := o.Config
	h := fnv.New64a()
	fmt.Fprintf(h, "%s %d %g %d %g %d %d %d %d %v %d", c.Model, c.InputSize, c.Width, c.BatchSize, c.Dropout, c.Seed,
		o.Runs, o.Warmup, o.BalanceSteps, o.Shares != nil, len(o.Targets))
	same, err := red.Agree(h.Sum64())
	if err != nil {
		return fmt.Errorf("bench: waiting for rank 0: %w", err)
	}
	if !same {
		return fmt.Errorf("bench: the %d ranks run different benchmarks (model, input size, width, batch, dropout, seed, runs, warm-up, device_shares or the number of devices differ); start every rank with the same flags", ranks)
	}
	return nil
}

// globalBatch is the global batch of random images (fixed seed) packed as
// data.Batch holds them, with labels 0..9 in turn.
func globalBatch(c config.Config) (images, labels []float32, err error) {
	m, err := train.NewModel(c)
	if err != nil {
		return nil, nil, fmt.Errorf("bench: %w", err)
	}
	lo, err := graph.NewLayout(m.Sequential, m.InputShape(1), train.GraphConfig(c))
	if err != nil {
		return nil, nil, fmt.Errorf("bench: planning %s: %w", c.Model, err)
	}
	img := make([]byte, c.BatchSize*lo.Config().Input.ImageBytes())
	x := uint32(12345)
	for i := range img {
		x = x*1664525 + 1013904223
		img[i] = byte(x >> 24)
	}
	labels = make([]float32, c.BatchSize)
	for i := range labels {
		labels[i] = float32(i % 10)
	}
	return backend.PackBytes(img), labels, nil
}

// sharedCoresNote says when every replica runs on the host's CPU cores,
// where the devices together cannot beat the fastest alone.
func sharedCoresNote(ts []backend.Info) string {
	if len(ts) < 2 {
		return ""
	}
	for _, t := range ts {
		if isGPU(t) {
			return ""
		}
	}
	return "every replica runs on this machine's CPU cores (CPU drivers, the reference backend): they share the cores, so the devices together cannot beat the fastest alone here; the balance and the reduction overhead still hold, and on two real cards the pair's images/s would approach the sum of the two alone"
}

// planModel plans the model of c for batch images on dev and applies the
// key tune as train does (a tuning failure is logged, the defaults run).
func (m *parallelBench) planModel(dev backend.Device, batch int) (*graph.Plan, error) {
	c := m.o.Config
	model, err := train.NewModel(c)
	if err != nil {
		return nil, err
	}
	p, err := graph.New(dev, model.Sequential, model.InputShape(batch), train.GraphConfig(c))
	if err != nil {
		return nil, err
	}
	if c.Tune != string(tune.Off) {
		if _, err := train.ApplyTune(dev, p, c, m.o.Logger); err != nil {
			m.o.Logger.Warn("tuning failed; the default tile configurations run", "device", dev.Info().ID(), "err", err)
		}
	}
	return p, nil
}
