package tune

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/layers"
)

// AlgoPrefix starts the Kernel of a cache entry that holds the algorithm
// choice of a convolution pass rather than a tile configuration: the key
// is "conv_algo:" + the implicit-GEMM dispatch's kernel, and its shape;
// Entry.Algo is the winner.
const AlgoPrefix = "conv_algo:"

// AlgoKey is the cache key of the algorithm choice of the convolution pass
// whose implicit-GEMM dispatch is p (conv2d_fwd, conv2d_bwd_data or
// conv2d_bwd_filter).
func AlgoKey(p backend.Params) backend.TuneKey {
	return backend.TuneKey{Kernel: backend.Kernel(AlgoPrefix + string(p.Kernel())), Shape: p.Shape()}
}

// isAlgo reports whether e is an algorithm choice.
func (e Entry) isAlgo() bool { return strings.HasPrefix(string(e.Kernel), AlgoPrefix) }

// decodeAlgo is decode for an algorithm choice: the params of the
// convolution it names and a known algorithm.
func (e Entry) decodeAlgo() (backend.Params, error) {
	inner := Entry{Kernel: backend.Kernel(strings.TrimPrefix(string(e.Kernel), AlgoPrefix)), Shape: e.Shape, Params: e.Params}
	switch inner.Kernel {
	case backend.KConv2DFwd, backend.KConv2DBwdData, backend.KConv2DBwdFilter:
	default:
		return nil, fmt.Errorf("tune cache entry %s: the algorithm choice is for %s, %s and %s only", e.Kernel,
			backend.KConv2DFwd, backend.KConv2DBwdData, backend.KConv2DBwdFilter)
	}
	if e.Algo != graph.ConvGemm && e.Algo != graph.ConvWinograd && e.Algo != graph.ConvWinograd4 {
		return nil, fmt.Errorf("tune cache entry %s %q: algorithm %q (want %s, %s or %s)", e.Kernel, e.Shape, e.Algo,
			graph.ConvGemm, graph.ConvWinograd, graph.ConvWinograd4)
	}
	return inner.decode()
}

// Algorithm timing: a warm-up run (the timing itself when it takes
// longTotalMs), then up to algoRuns runs (one when a run takes
// longTotalMs); the median counts.
const algoRuns = 3

// When one algorithm's time is within algoMargin of the other's, both are
// timed again, alternately, up to algoRechecks more runs each while the
// algorithm share of the budget lasts, and the fastest run of each counts:
// on a shared host one timing of a pass can be a third off (cpu-quick's
// conv.3 forward on lavapipe: Winograd 110 ms against implicit GEMM's 128
// in one tune, 134 against 98 in the next), and the fastest run is the one
// least disturbed.
const (
	algoMargin   = 1.25
	algoRechecks = 3
)

// algoShare is the part of a tuning budget that TileBudget keeps for
// timing the convolution algorithms after the tiles (on PoCL the seed's
// twelve passes take about a tenth of a 2-minute budget once the tiles'
// timings are reused).
const algoShare = 0.125

// AlgoChoice is the algorithm chosen for one convolution pass by timing
// each it admits on the device: the pass's device time in ms by each
// (Winograd4Ms 0 where the pass cannot run as F(4x4,3x3)).
type AlgoChoice struct {
	Layer, Pass        string // e.g. "conv.3", graph.PassForward
	Algo               string // graph.ConvGemm, graph.ConvWinograd or graph.ConvWinograd4
	WinogradMs, GemmMs float64
	Winograd4Ms        float64
}

// algoTiming is one algorithm of a pass: its dispatches and time in ms.
type algoTiming struct {
	algo string
	ds   []layers.Dispatch
	ms   float64
}

// chooseAlgos sets, when plan's conv_algo is auto, the algorithm of every
// convolution pass that can run both ways: the cached choice, or in Auto
// mode the faster of the two timed now on dev (stored in the cache); a
// pass without either keeps the rule's. An implicit-GEMM pass whose one
// dispatch is in known (the real-shape time of the configuration set now,
// measured by this run's Tune) is not timed again, and the kernels of known
// count as built (timeDispatches). It returns the choices it timed.
func chooseAlgos(dev backend.Device, t backend.Tuner, plan *graph.Plan, mode Mode, entries map[backend.TuneKey]Entry, known map[backend.TuneKey]float64, o Options, log *slog.Logger) ([]AlgoChoice, error) {
	if plan.Layout().Config().ConvAlgo != graph.ConvAuto {
		return nil, nil
	}
	var store []Entry
	var chosen []AlgoChoice
	recheckUntil := time.Now().Add(time.Duration(algoShare * float64(orDefault(o.Budget))))
	ran, touched := map[backend.Kernel]bool{}, map[backend.Buffer]bool{}
	for key := range known {
		ran[key.Kernel] = true // Tune ran it in this process
	}
	for k, c := range plan.ConvAlgos() {
		if !c.Winograd {
			continue
		}
		gemm, err := plan.ConvDispatches(k, graph.ConvGemm)
		if err != nil {
			return nil, err
		}
		key := AlgoKey(gemm[0].P)
		if e, ok := entries[key]; ok {
			reason := fmt.Sprintf("cached: %s %.3g ms, gemm %.3g ms", e.Algo, e.Ms, e.DefaultMs)
			if err := plan.SetConvAlgo(k, e.Algo, reason); err != nil {
				log.Warn("tune: the cached convolution algorithm does not fit this plan; the rule's is kept", "layer", c.Name+" "+c.Pass,
					"algo", e.Algo, "reason", err.Error())
			}
			continue
		}
		if mode != Auto {
			continue
		}
		cands, err := algoCandidates(plan, k, c, gemm)
		if err != nil {
			return nil, err
		}
		err = finiteInput(dev, gemm[0])
		for i := range cands {
			if err == nil {
				err = touchOutputs(dev, cands[i].ds, touched)
			}
		}
		for i := range cands {
			if err != nil {
				break
			}
			if ms, ok := known[backend.KeyOf(gemm[0].P)]; ok && i == 0 && len(gemm) == 1 {
				cands[i].ms = ms
				continue
			}
			cands[i].ms, err = timeDispatches(dev, cands[i].ds, ran)
		}
		if err == nil {
			slices.SortStableFunc(cands, func(a, b algoTiming) int { return cmp.Compare(a.ms, b.ms) })
			var rounds int
			cands[0].ms, cands[1].ms, rounds, err = recheck(dev, cands[0].ds, cands[1].ds, cands[0].ms, cands[1].ms, recheckUntil)
			if err != nil {
				return nil, fmt.Errorf("tune: timing the algorithms of %s %s again: %w", c.Name, c.Pass, err)
			}
			best := slices.MinFunc(cands, func(a, b algoTiming) int { return cmp.Compare(a.ms, b.ms) })
			ch := AlgoChoice{Layer: c.Name, Pass: c.Pass, Algo: best.algo}
			for _, a := range cands {
				switch a.algo {
				case graph.ConvGemm:
					ch.GemmMs = a.ms
				case graph.ConvWinograd:
					ch.WinogradMs = a.ms
				case graph.ConvWinograd4:
					ch.Winograd4Ms = a.ms
				}
			}
			reason := fmt.Sprintf("tuned: winograd %.3g ms, gemm %.3g ms", ch.WinogradMs, ch.GemmMs)
			if ch.Winograd4Ms > 0 {
				reason += fmt.Sprintf(", winograd4 %.3g ms", ch.Winograd4Ms)
			}
			if rounds > 0 {
				reason += fmt.Sprintf(", the fastest with %d more runs each", rounds)
			}
			if err := plan.SetConvAlgo(k, best.algo, reason); err != nil {
				return nil, err
			}
			store = append(store, algoEntry(gemm[0].P, c, best.algo, best.ms, ch.GemmMs))
			chosen = append(chosen, ch)
			log.Info("tune: convolution algorithm", "layer", c.Name+" "+c.Pass, "algo", best.algo, "winograd_ms", ch.WinogradMs,
				"gemm_ms", ch.GemmMs, "winograd4_ms", ch.Winograd4Ms)
			continue
		}
		if errors.Is(err, backend.ErrDeviceLost) {
			return nil, fmt.Errorf("tune: timing the algorithms of %s %s: %w", c.Name, c.Pass, err)
		}
		log.Warn("tune: cannot time the convolution algorithms; the rule's is kept", "layer", c.Name+" "+c.Pass, "reason", err.Error())
	}
	if o.Cache != nil && len(store) > 0 {
		if err := o.Cache.Store(t.TuneIdentity(), store); err != nil {
			o.Cache.inMemory(log, err)
		}
	}
	return chosen, nil
}

// algoCandidates are the algorithms pass k (c) of plan admits, with
// their dispatches: implicit GEMM (gemm) first, Winograd, and F(4x4,3x3)
// where c.Winograd4.
func algoCandidates(plan *graph.Plan, k int, c graph.ConvPass, gemm []layers.Dispatch) ([]algoTiming, error) {
	out := []algoTiming{{algo: graph.ConvGemm, ds: gemm}}
	algos := []string{graph.ConvWinograd}
	if c.Winograd4 {
		algos = append(algos, graph.ConvWinograd4)
	}
	for _, a := range algos {
		ds, err := plan.ConvDispatches(k, a)
		if err != nil {
			return nil, err
		}
		out = append(out, algoTiming{algo: a, ds: ds})
	}
	return out, nil
}

// algoEntry is the cache entry of an algorithm choice.
func algoEntry(p backend.Params, c graph.ConvPass, algo string, ms, gemmMs float64) Entry {
	e := entryOf(Result{Target: Target{Layer: c.Name, Phase: c.Pass, P: p}, ChosenMs: ms, DefaultMs: gemmMs})
	e.Kernel, e.Algo = AlgoKey(p).Kernel, algo
	return e
}

// finiteInput fills the input (x or dy; x and dy of a filter gradient)
// of the implicit-GEMM dispatch d with ones, so that both algorithms are
// timed on finite values rather than on what the plan's buffers held
// before its first step (which the step overwrites). The weights are
// never touched.
func finiteInput(dev backend.Device, d layers.Dispatch) error {
	n := 1
	if _, ok := d.P.(backend.Conv2DBwdFilter); ok {
		n = 2
	}
	for _, b := range d.Bufs[:n] {
		if err := dev.Dispatch(backend.Fill{N: uint32(b.Len()), Value: 1}, b); err != nil {
			return err
		}
	}
	return nil
}

// touchOutputs fills with zeros, once (recorded in touched), every buffer
// that ds write, so that no timing pays for their first touch: CPU drivers
// map a buffer's pages at its first write, and the Winograd scratch of
// conv.3's input gradient is 1.4 GB at batch 128, whose first touch is a
// sizeable part of a single timed run. The dispatches overwrite the zeros.
func touchOutputs(dev backend.Device, ds []layers.Dispatch, touched map[backend.Buffer]bool) error {
	for _, d := range ds {
		for i, b := range d.P.Buffers() {
			if buf := d.Bufs[i]; b.Access.Writes() && !touched[buf] {
				touched[buf] = true
				if err := dev.Dispatch(backend.Fill{N: uint32(buf.Len())}, buf); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// recheck times the implicit-GEMM dispatches gemm and the Winograd ones
// win once more each, alternately, while their times gms and wms are within
// algoMargin of each other, at most algoRechecks rounds and only while a
// round fits before until; it returns the fastest time of each (the first
// timings included) and the rounds it ran.
func recheck(dev backend.Device, gemm, win []layers.Dispatch, gms, wms float64, until time.Time) (float64, float64, int, error) {
	kt, err := timerOf(dev)
	if err != nil {
		return gms, wms, 0, err
	}
	rounds := 0
	for ; rounds < algoRechecks && max(gms, wms) <= algoMargin*min(gms, wms); rounds++ {
		if time.Now().Add(time.Duration((gms + wms) * float64(time.Millisecond))).After(until) {
			break
		}
		g, err := runTimed(dev, kt, gemm)
		if err != nil {
			return gms, wms, rounds, err
		}
		w, err := runTimed(dev, kt, win)
		if err != nil {
			return gms, wms, rounds, err
		}
		gms, wms = min(gms, g), min(wms, w)
	}
	return gms, wms, rounds, nil
}

// timerOf is dev's kernel timer, nil when it has none or its timers are
// unsupported.
func timerOf(dev backend.Device) (backend.KernelTimer, error) {
	kt, _ := dev.(backend.KernelTimer)
	if kt == nil {
		return nil, nil
	}
	if _, err := kt.KernelTimes(); err != nil {
		if errors.Is(err, backend.ErrUnsupported) {
			return nil, nil
		}
		return nil, err
	}
	return kt, nil
}

// timeDispatches is the median device time in ms of running ds on dev
// after a warm-up run: by the device's kernel timers (every kernel they
// timed), else the wall clock around the run and a Sync. A warm-up that
// warmUpIsTiming by the kernel timers is the timing itself, unless it ran
// a kernel not in ran (which timeDispatches adds them to): a kernel's
// first dispatch may pay for its build inside its device time (PoCL
// generates the work-group function then).
func timeDispatches(dev backend.Device, ds []layers.Dispatch, ran map[backend.Kernel]bool) (float64, error) {
	cold := false
	for _, d := range ds {
		if k := d.P.Kernel(); !ran[k] {
			cold, ran[k] = true, true
		}
	}
	kt, err := timerOf(dev)
	if err != nil {
		return 0, err
	}
	warm, err := runTimed(dev, kt, ds)
	if err != nil {
		return 0, err
	}
	if kt != nil && warmUpIsTiming(warm) && !cold {
		return warm, nil
	}
	var runs []float64
	for total := 0.0; len(runs) < algoRuns && total < longTotalMs; {
		ms, err := runTimed(dev, kt, ds)
		if err != nil {
			return 0, err
		}
		runs = append(runs, ms)
		total += ms
	}
	slices.Sort(runs)
	return runs[len(runs)/2], nil
}

// runTimed runs ds once and returns its device time in ms by kt (every
// kernel it timed), or with kt nil the wall clock around the run and a
// Sync.
func runTimed(dev backend.Device, kt backend.KernelTimer, ds []layers.Dispatch) (float64, error) {
	start := time.Now()
	if err := layers.Run(dev, ds); err != nil {
		return 0, err
	}
	if kt == nil {
		if err := dev.Sync(); err != nil {
			return 0, err
		}
		return float64(time.Since(start).Nanoseconds()) / 1e6, nil
	}
	times, err := kt.KernelTimes()
	if err != nil {
		return 0, err
	}
	ms := 0.0
	for _, x := range times {
		ms += float64(x.Nanos) / 1e6
	}
	return ms, nil
}

// altTargets are the tiled dispatches of the algorithms each convolution
// pass does not run now, when plan's conv_algo is auto and the pass can
// run more than one way (the tuner times each), with the first layer
// naming each.
func altTargets(plan *graph.Plan) ([]Target, error) {
	if plan.Layout().Config().ConvAlgo != graph.ConvAuto {
		return nil, nil
	}
	var out []Target
	for k, c := range plan.ConvAlgos() {
		if !c.Winograd {
			continue
		}
		others := []string{graph.ConvGemm, graph.ConvWinograd}
		if c.Winograd4 {
			others = append(others, graph.ConvWinograd4)
		}
		phase := graph.PhaseForward
		if c.Pass != graph.PassForward {
			phase = graph.PhaseBackward
		}
		for _, other := range others {
			if other == c.Algo {
				continue
			}
			ds, err := plan.ConvDispatches(k, other)
			if err != nil {
				return nil, err
			}
			for _, d := range ds {
				if backend.IsTiled(d.P.Kernel()) {
					out = append(out, Target{Layer: c.Name, Phase: phase, P: d.P, Alternative: true})
				}
			}
		}
	}
	return out, nil
}

// measuredNow maps each result timed at the real shape by this run's Tune
// (not read from the cache) to the time of its chosen configuration.
func measuredNow(results []Result) map[backend.TuneKey]float64 {
	out := map[backend.TuneKey]float64{}
	for _, r := range results {
		if r.ChosenMs > 0 && r.Source != FromCache {
			out[backend.KeyOf(r.P)] = r.ChosenMs
		}
	}
	return out
}

// TileBudget is the part of budget that Tune gets when ChooseAlgos runs
// after it within the same budget: budget less algoShare of it when plan
// has convolution passes to choose the algorithm of, else all of it.
func TileBudget(plan *graph.Plan, budget time.Duration) time.Duration {
	if plan.Layout().Config().ConvAlgo != graph.ConvAuto {
		return budget
	}
	for _, c := range plan.ConvAlgos() {
		if c.Winograd {
			return budget - time.Duration(float64(budget)*algoShare)
		}
	}
	return budget
}
