package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/graph"
)

// benchDevice runs every section not skipped on one device.
func benchDevice(ctx context.Context, info backend.Info, o Options) (r DeviceReport) {
	start := time.Now()
	r = DeviceReport{ID: info.ID(), Backend: info.Backend, Name: info.Name, Vendor: info.Vendor,
		Type: info.Type.String(), Driver: info.DriverVersion, Batch: o.BatchFor(info), Timer: "device"}
	if info.Type == backend.Reference {
		r.Timer = "host"
	}
	defer func() { r.Seconds = time.Since(start).Seconds() }()
	if !o.Skip[SecCold] && o.Cold != nil {
		fmt.Fprintf(o.Log, "bench:   cold start (child processes, caches cold then warm)\n")
		cs := MeasureColdStart(ctx, o.Cold, info.ID(), r.Batch)
		r.Cold = &cs
	}
	dev, err := o.Open(info.ID())
	if err != nil {
		r.Err = "open: " + err.Error()
		return r
	}
	defer func() {
		if err := dev.Close(); err != nil && r.Err == "" {
			r.Err = "close: " + err.Error()
		}
	}()
	if !o.Skip[SecCeilings] {
		fmt.Fprintf(o.Log, "bench:   ceilings\n")
		c := measureCeilings(dev, o)
		r.Ceilings = &c
	}
	if o.Skip[SecKernels] && o.Skip[SecStep] {
		return r
	}
	plan, err := NewPlan(dev, o.Config, r.Batch)
	if err != nil {
		r.Err = fmt.Sprintf("planning %s at batch %d: %v", o.Config.Model, r.Batch, err)
		return r
	}
	defer plan.Close()
	b := &stepBench{dev: dev, plan: plan, o: o, batch: r.Batch, tiles: prepareTune(dev, plan, o, &r)}
	r.ConvAlgos = graph.ConvAlgoLine(plan.ConvAlgos())
	r.StepDispatches, _ = plan.StepDispatches()
	if kt, ok := dev.(backend.KernelTimer); ok {
		b.timer = kt
		if _, err := kt.KernelTimes(); err != nil {
			b.timer = nil
		}
	}
	if !o.Skip[SecKernels] && ctx.Err() == nil {
		fmt.Fprintf(o.Log, "bench:   kernels and layers (%d+%d profiled steps, a wait after each dispatch)\n", o.Warmup, o.Runs)
		r.Kernels, r.Layers = b.profile(ctx)
		r.Kernels = append(r.Kernels, b.extraKernels(r.Kernels)...)
		var c Ceilings
		if r.Ceilings != nil {
			c = *r.Ceilings
		}
		rateRows(r.Kernels, c)
	}
	if !o.Skip[SecStep] && ctx.Err() == nil {
		fmt.Fprintf(o.Log, "bench:   training step (%d+%d steps at batch %d)\n", o.Warmup, o.Runs, r.Batch)
		st := b.step()
		for _, l := range r.Layers {
			st.ProfiledDevice += l.Device.Median
			st.ProfiledWall += l.Wall.Median
		}
		r.Step = &st
	}
	return r
}

// stepBench times the dispatches of a planned training step.
type stepBench struct {
	dev   backend.Device
	timer backend.KernelTimer // nil: wall time only
	plan  *graph.Plan
	o     Options
	batch int
	steps int   // training steps counted so far (dropout and Adam counter)
	tiles tiles // the tile configurations the tiled dispatches run with
}

func (b *stepBench) nextStep() int { b.steps++; return b.steps }

// timed dispatches p, waits, and returns the wall and device milliseconds
// (device is NaN without a timer).
func (b *stepBench) timed(p backend.Params, bufs []backend.Buffer) (wall, dev float64, err error) {
	t0 := time.Now()
	err = b.dev.Dispatch(p, bufs...)
	if err == nil {
		err = b.dev.Sync()
	}
	wall = ms(time.Since(t0))
	dev, terr := b.deviceMs()
	return wall, dev, errors.Join(err, terr)
}

// deviceMs is the summed kernel time since the last call (NaN without a
// timer).
func (b *stepBench) deviceMs() (float64, error) {
	if b.timer == nil {
		return nanf(), nil
	}
	times, err := b.timer.KernelTimes()
	if err != nil {
		return nanf(), fmt.Errorf("kernel times: %w", err)
	}
	var ns int64
	for _, t := range times {
		ns += t.Nanos
	}
	return float64(ns) / 1e6, nil
}

// rowAcc accumulates one table row's per-run samples.
type rowAcc struct {
	wall, dev []float64
	failed    bool
	err       error
}

func newAcc(runs int) *rowAcc {
	return &rowAcc{wall: make([]float64, runs), dev: make([]float64, runs)}
}

func (a *rowAcc) add(run int, wall, dev float64) {
	if run >= 0 {
		a.wall[run] += wall
		a.dev[run] += dev
	}
}

func (a *rowAcc) stats() (wall, dev Stat) {
	if a.failed {
		return Stat{}, Stat{}
	}
	return Summarize(a.wall), Summarize(a.dev)
}

// profile runs Warmup+Runs training steps part by part, waiting after
// every dispatch, and returns one row per kernel shape (all Adam dispatches
// in one row) and one per layer and phase.
func (b *stepBench) profile(ctx context.Context) ([]KernelRow, []LayerRow) {
	var krows []KernelRow
	var lrows []LayerRow
	var kacc, lacc []*rowAcc
	rowOf := map[[2]int]int{} // (part, dispatch) -> kernel row
	adamRow, adamN := -1, 0
	for run := -b.o.Warmup; run < b.o.Runs; run++ {
		if ctx.Err() != nil {
			break
		}
		parts, err := b.plan.TrainStepParts(b.nextStep(), b.batch)
		if err != nil {
			return []KernelRow{{Kernel: "step", Err: err.Error()}}, nil
		}
		if krows == nil {
			for pi, p := range parts {
				lrows = append(lrows, LayerRow{Layer: p.Layer, Type: p.Type, Phase: p.Phase})
				lacc = append(lacc, newAcc(b.o.Runs))
				for di, d := range p.Dispatches {
					w := WorkOf(d.P)
					lrows[pi].FLOP += w.FLOP
					if d.P.Kernel() == backend.KAdam && adamRow >= 0 {
						rowOf[[2]int{pi, di}] = adamRow
						k := &krows[adamRow]
						k.Calls++
						k.FLOP, k.Bytes = k.FLOP+w.FLOP, k.Bytes+w.Bytes
						adamN += int(d.P.(backend.Adam).N)
						k.Shape = fmt.Sprintf("n=%d in %d tensors", adamN, k.Calls)
						continue
					}
					row := KernelRow{Kernel: string(d.P.Kernel()), Where: p.Layer + " " + p.Phase, Shape: ShapeOf(d.P),
						Calls: 1, FLOP: w.FLOP, Bytes: w.Bytes, Compute: w.Compute}
					row.TileDefault, row.TileChosen = b.tiles.of(d.P)
					if a, ok := d.P.(backend.Adam); ok {
						adamRow, adamN = len(krows), int(a.N)
						row.Where = "all layers " + graph.PhaseUpdate
					}
					rowOf[[2]int{pi, di}] = len(krows)
					krows = append(krows, row)
					kacc = append(kacc, newAcc(b.o.Runs))
				}
			}
		}
		for pi, p := range parts {
			for di, d := range p.Dispatches {
				ka, la := kacc[rowOf[[2]int{pi, di}]], lacc[pi]
				if ka.failed {
					la.failed = true
					continue
				}
				wall, dev, err := b.timed(d.P, d.Bufs)
				if err != nil {
					ka.failed, ka.err = true, err
					la.failed, la.err = true, fmt.Errorf("%s: %w", d.P.Kernel(), err)
					continue
				}
				ka.add(run, wall, dev)
				la.add(run, wall, dev)
			}
		}
		if _, err := b.plan.ReadStats(b.batch); err != nil {
			for _, a := range lacc {
				if !a.failed {
					a.failed, a.err = true, fmt.Errorf("reading the step statistics: %w", err)
				}
			}
		}
	}
	for i, a := range kacc {
		krows[i].Wall, krows[i].Device = a.stats()
		krows[i].Err = errString(a.err)
	}
	for i, a := range lacc {
		lrows[i].Wall, lrows[i].Device = a.stats()
		lrows[i].Err = errString(a.err)
	}
	return krows, lrows
}

// extraKernels times the kernels of the closed list a training step does
// not use (fill, axpy, scale, count_nonfinite; relu_fwd and relu_bwd when
// fusion left none in the step's rows have) at the size of the largest
// parameter, a square SGEMM of side 1024, the size GEMM libraries are
// usually quoted at, and the Winograd transforms of AlexNet's conv.8
// (forward and filter gradient).
func (b *stepBench) extraKernels(have []KernelRow) []KernelRow {
	n := 0
	for _, p := range b.plan.Params() {
		n = max(n, p.Buffer.Len())
	}
	const side = squareSide
	var bufs []backend.Buffer
	defer func() {
		for _, buf := range bufs {
			buf.Release()
		}
	}()
	alloc := func(n int) (backend.Buffer, error) {
		buf, err := b.dev.Alloc(n)
		if err == nil {
			bufs = append(bufs, buf)
		}
		return buf, err
	}
	x, errX := alloc(n)
	y, errY := alloc(n)
	cnt, errN := alloc(1)
	ga, errA := alloc(side * side)
	gb, errB := alloc(side * side)
	gc, errC := alloc(side * side)
	sq := squareGemm()
	// The Winograd transforms of AlexNet's conv.8 (384 -> 384, 12x12) at batch 1.
	wg, _ := backend.WinogradConv(backend.NewConv2DShape(1, 384, 12, 12, 384, 3, 3, 1, 1), false)
	ww, errWW := alloc(wg.Filter.BufferSizes()[0])
	wx, errWX := alloc(wg.Input.BufferSizes()[0])
	wb, errWB := alloc(wg.Output.BufferSizes()[1])
	wy, errWY := alloc(wg.Output.BufferSizes()[2])
	wu, errWU := alloc(wg.ULen)
	wv, errWV := alloc(wg.VLen)
	wm, errWM := alloc(wg.MLen)
	// Its filter gradient's transforms over the same buffers: dy has y's
	// size, E has M's, the products M' U's, dw the filter's and db b's.
	gg, _ := backend.WinogradGrad(backend.NewConv2DShape(1, 384, 12, 12, 384, 3, 3, 1, 1))
	type op struct {
		p     backend.Params
		bufs  []backend.Buffer
		err   error
		setup []backend.Params // untimed dispatches first
		sbufs [][]backend.Buffer
	}
	ops := []op{
		{p: backend.Fill{N: uint32(n), Value: 0.5}, bufs: []backend.Buffer{x}, err: errX},
		{p: backend.Axpy{N: uint32(n), Alpha: 1e-3}, bufs: []backend.Buffer{x, y}, err: errors.Join(errX, errY),
			setup: []backend.Params{backend.Fill{N: uint32(n), Value: 0.25}}, sbufs: [][]backend.Buffer{{y}}},
		{p: backend.Scale{N: uint32(n), Alpha: 0.999}, bufs: []backend.Buffer{y}, err: errY},
		{p: backend.CountNonfinite{N: uint32(n)}, bufs: []backend.Buffer{x, cnt}, err: errors.Join(errX, errN)},
		{p: sq, bufs: []backend.Buffer{ga, gb, gc}, err: errors.Join(errA, errB, errC),
			setup: []backend.Params{backend.Fill{N: side * side, Value: 0.5}, backend.Fill{N: side * side, Value: 0.25}},
			sbufs: [][]backend.Buffer{{ga}, {gb}}},
		{p: wg.Filter, bufs: []backend.Buffer{ww, wu}, err: errors.Join(errWW, errWU)},
		{p: wg.Input, bufs: []backend.Buffer{wx, wv}, err: errors.Join(errWX, errWV)},
		{p: wg.Output, bufs: []backend.Buffer{wm, wb, wy}, err: errors.Join(errWM, errWB, errWY)},
		{p: gg.Dy, bufs: []backend.Buffer{wy, wm}, err: errors.Join(errWY, errWM)},
		{p: gg.Output, bufs: []backend.Buffer{wu, wm, ww, wb}, err: errors.Join(errWU, errWM, errWW, errWB)},
	}
	inStep := map[string]bool{}
	for _, r := range have {
		inStep[r.Kernel] = true
	}
	if !inStep[string(backend.KReluFwd)] {
		ops = append(ops, op{p: backend.ReluFwd{N: uint32(n)}, bufs: []backend.Buffer{x, y}, err: errors.Join(errX, errY)})
	}
	if !inStep[string(backend.KReluBwd)] {
		ops = append(ops, op{p: backend.ReluBwd{N: uint32(n)}, bufs: []backend.Buffer{x, y, y}, err: errors.Join(errX, errY)})
	}
	var rows []KernelRow
	for _, op := range ops {
		w := WorkOf(op.p)
		row := KernelRow{Kernel: string(op.p.Kernel()), Where: "extra (not in a step)", Shape: ShapeOf(op.p), Calls: 1,
			FLOP: w.FLOP, Bytes: w.Bytes, Compute: w.Compute}
		row.TileDefault, row.TileChosen = b.tiles.of(op.p)
		err := op.err
		if err != nil {
			err = fmt.Errorf("alloc: %w", err)
		}
		for i, sp := range op.setup {
			if err == nil {
				_, _, err = b.timed(sp, op.sbufs[i])
			}
		}
		a := newAcc(b.o.Runs)
		for run := -b.o.Warmup; run < b.o.Runs && err == nil; run++ {
			var wall, dev float64
			if wall, dev, err = b.timed(op.p, op.bufs); err == nil {
				a.add(run, wall, dev)
			}
		}
		if err != nil {
			a.failed, a.err = true, err
		}
		row.Wall, row.Device = a.stats()
		row.Err = errString(a.err)
		rows = append(rows, row)
	}
	return rows
}

// step runs Warmup+Runs full training steps as training does.
func (b *stepBench) step() StepResult {
	c := b.o.Config
	st := StepResult{Batch: b.batch, InputSize: c.InputSize}
	parts, err := b.plan.TrainStepParts(1, b.batch)
	if err == nil {
		for _, p := range parts {
			for _, d := range p.Dispatches {
				st.FLOP += WorkOf(d.P).FLOP
			}
		}
	}
	if _, err := b.deviceMs(); err != nil {
		st.Err = err.Error()
		return st
	}
	var walls, devs []float64
	for run := -b.o.Warmup; run < b.o.Runs; run++ {
		t0 := time.Now()
		s, err := b.plan.TrainStep(b.nextStep(), b.batch)
		wall := ms(time.Since(t0))
		dev, terr := b.deviceMs()
		if err = errors.Join(err, terr); err != nil {
			st.Err = err.Error()
			return st
		}
		if s.N != b.batch {
			st.Err = fmt.Sprintf("step reported %d images, want %d", s.N, b.batch)
			return st
		}
		if run >= 0 {
			walls, devs = append(walls, wall), append(devs, dev)
		}
	}
	st.Wall, st.Device = Summarize(walls), Summarize(devs)
	st.ImagesPerSec = st.Wall.Map(func(m float64) float64 { return float64(b.batch) / (m / 1e3) })
	if st.Wall.Median > 0 {
		st.GFLOPS = st.FLOP / (st.Wall.Median / 1e3) / 1e9
	}
	return st
}

// rateRows fills the throughput columns of rows from their medians (device
// time when measured, else wall time) and the ceilings.
func rateRows(rows []KernelRow, c Ceilings) {
	for i := range rows {
		r := &rows[i]
		t := r.Device.Median
		if !r.Device.Valid() {
			t = r.Wall.Median
		}
		if t <= 0 || r.Err != "" {
			continue
		}
		sec := t / 1e3
		if r.FLOP > 0 {
			r.GFLOPS = r.FLOP / sec / 1e9
		}
		r.GBPS = r.Bytes / sec / 1e9
		if r.Compute && c.FMA.Median > 0 {
			r.PctFMA = 100 * r.GFLOPS / c.FMA.Median
		}
		if !r.Compute && c.Copy.Median > 0 {
			r.PctCopy = 100 * r.GBPS / c.Copy.Median
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func nanf() float64 { return math.NaN() }
