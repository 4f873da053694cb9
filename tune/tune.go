package tune

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/crossgrad/crossgrad/backend"
)

// prelim is what the first pass learnt about one target's default.
type prelim struct {
	measured bool          // the first pass got to this target
	defErr   error         // the default's check failure
	defMs    float64       // the default's device time at the real shape (0: not timed)
	cost     time.Duration // wall time of the default's check
	weight   float64       // the dispatch's arithmetic and traffic, which its share of the budget follows
}

// tuneAll is Tune: a first pass checks every target's default on small
// cases, then each target (its default timed first) is searched within its
// share of the budget left, trying first what earlier targets of its
// kernel chose.
func tuneAll(dev backend.Device, targets []Target, o Options) ([]Result, error) {
	t, ok := dev.(backend.Tuner)
	if !ok {
		return nil, fmt.Errorf("tune: %T has no tile engine to tune", dev)
	}
	log := orDiscard(o.Log)
	deadline := time.Now().Add(orDefault(o.Budget))
	results := make([]Result, len(targets))
	for i, tg := range targets {
		def := t.DefaultTile(tg.P)
		results[i] = Result{Target: tg, Default: def, Chosen: def, Source: FromDefault}
	}
	pre, err := measureDefaults(dev, t, targets, deadline, log)
	if err != nil {
		return nil, err
	}
	w := shareWeights(pre, time.Until(deadline))
	var entries []Entry
	won := map[backend.Kernel][]backend.TileConfig{}
	for i, tg := range targets {
		if pre[i].measured {
			share := shareOf(w, i, time.Until(deadline))
			r, searched, err := tuneTarget(dev, t, tg, pre[i], share, deadline, won[tg.P.Kernel()], log)
			if err != nil {
				return nil, err
			}
			results[i] = r
			if r.Source == FromTuning {
				won[tg.P.Kernel()] = append([]backend.TileConfig{r.Chosen}, won[tg.P.Kernel()]...)
			}
			if searched {
				entries = append(entries, entryOf(r))
			}
		}
		apply(t, &results[i], log)
		r := results[i]
		log.Debug("tune: target done", "kernel", describe(tg), "source", string(r.Source), "default", string(r.Default),
			"chosen", string(r.Chosen), "default_ms", r.DefaultMs, "chosen_ms", r.ChosenMs, "tried", r.Tried, "failed", r.Failed)
		if o.Progress != nil {
			o.Progress(i+1, len(targets), describe(tg))
		}
	}
	if o.Cache != nil && len(entries) > 0 {
		if err := o.Cache.Store(t.TuneIdentity(), entries); err != nil {
			o.Cache.inMemory(log, err)
		}
	}
	return results, nil
}

// measureDefaults checks every target's default configuration on small
// cases, until deadline.
func measureDefaults(dev backend.Device, t backend.Tuner, targets []Target, deadline time.Time, log *slog.Logger) ([]prelim, error) {
	pre := make([]prelim, len(targets))
	for i, tg := range targets {
		if !time.Now().Before(deadline) {
			break
		}
		start := time.Now()
		def := t.DefaultTile(tg.P)
		w := tg.P.Work()
		pre[i] = prelim{measured: true, weight: w.FLOP + w.Bytes}
		if tg.Alternative {
			pre[i].weight *= alternativeWeight
		}
		if err := check(dev, tg.P, def); err != nil {
			if errors.Is(err, backend.ErrDeviceLost) {
				return nil, fmt.Errorf("tune: %s: default configuration: %w", describe(tg), err)
			}
			pre[i].defErr = err
		}
		pre[i].cost = time.Since(start)
		log.Debug("tune: default checked", "kernel", describe(tg), "config", string(def), "took", pre[i].cost)
	}
	return pre, nil
}

// tuneTarget times tg's default at the real shape (before deadline), then
// searches its candidates for share from then on (not past deadline; from
// the proxy default's timing on when it ranks at a smaller batch),
// those in hints (the configurations earlier targets of its kernel chose,
// latest first) before the others, and returns its result and whether the
// search tried any candidate besides the default (or there is none): only
// such results are cached. The default's timing is outside the share:
// every target pays it (its time is reported, and the algorithm choice
// reuses it), so a share of a few hundred ms still buys a few candidates.
func tuneTarget(dev backend.Device, t backend.Tuner, tg Target, pre prelim, share time.Duration, deadline time.Time, hints []backend.TileConfig, log *slog.Logger) (Result, bool, error) {
	def := t.DefaultTile(tg.P)
	s := &search{dev: dev, t: t, p: tg.P, log: log, what: describe(tg), deadline: deadline, hard: deadline, share: share, cost: pre.cost,
		tried: map[backend.TileConfig]bool{def: true}}
	if pre.defErr != nil {
		s.failed, s.firstFail = 1, pre.defErr
	} else {
		s.timed = 1
	}
	cands := hintsFirst(candidatesOf(t, tg.P, def), hints)
	if len(cands) == 0 || !s.hasTime() {
		return s.result(tg, def, pre), len(cands) == 0, nil
	}
	b, err := newBench(dev, t, tg.P)
	if errors.Is(err, backend.ErrDeviceLost) {
		return Result{}, false, fmt.Errorf("tune: %s: %w", s.what, err)
	}
	if err != nil {
		log.Warn("tune: cannot run at the real shape; not tuned", "kernel", s.what, "reason", err.Error())
		return s.result(tg, def, pre), false, nil
	}
	defer b.release()
	s.b = b
	if pre.defErr == nil {
		out, warm, err := b.run(def)
		if errors.Is(err, backend.ErrDeviceLost) {
			return Result{}, false, fmt.Errorf("tune: %s: default configuration %q at the real shape: %w", s.what, def, err)
		}
		if err != nil {
			log.Warn("tune: the default configuration fails at the real shape; not tuned",
				"kernel", s.what, "config", string(def), "reason", err.Error())
			return s.result(tg, def, pre), false, nil
		}
		b.want = out
		ms, err := b.timeAfter(def, warm, deadline, deadline, 0)
		if errors.Is(err, backend.ErrDeviceLost) {
			return Result{}, false, fmt.Errorf("tune: %s: default configuration %q at the real shape: %w", s.what, def, err)
		}
		if err != nil {
			log.Warn("tune: cannot time the default configuration at the real shape; not tuned",
				"kernel", s.what, "config", string(def), "reason", err.Error())
			return s.result(tg, def, pre), false, nil
		}
		pre.defMs = ms
		s.place(def, ms)
		log.Debug("tune: default timed", "kernel", s.what, "config", string(def), "ms", ms)
	}
	s.restartShare()
	if q, ok := proxyOf(tg.P, pre.defMs); ok && s.haveBest {
		if err := s.searchProxy(q, b, def, pre.defMs, cands); err != nil {
			return Result{}, false, err
		}
		return s.result(tg, def, pre), s.others > 0, nil
	}
	if err := s.run(cands); err != nil {
		return Result{}, false, err
	}
	from := s.best
	rounds, err := s.recheck()
	if errors.Is(err, backend.ErrDeviceLost) {
		return Result{}, false, fmt.Errorf("tune: %s: timing the two fastest configurations again: %w", s.what, err)
	}
	if err != nil {
		log.Warn("tune: cannot time the two fastest configurations again; keeping the first timings", "kernel", s.what, "reason", err.Error())
	}
	if rounds > 0 {
		log.Info("tune: the two fastest configurations timed again", "kernel", s.what, "rounds", rounds,
			"best", string(s.best), "ms", s.bestMs, "runner_up", string(s.second), "runner_up_ms", s.secondMs, "changed", s.best != from)
	}
	return s.result(tg, def, pre), s.others > 0, nil
}

// result is the outcome of s for target tg with default def.
func (s *search) result(tg Target, def backend.TileConfig, pre prelim) Result {
	r := Result{Target: tg, Default: def, Chosen: def, DefaultMs: pre.defMs, ChosenMs: pre.defMs,
		Source: FromDefault, Tried: s.timed, Failed: s.failed}
	switch {
	case pre.defErr != nil && !s.haveBest:
		r.Source = FromFallback
		r.Warning = fmt.Sprintf("%s: the default configuration %q fails its check: %v; running it anyway (it is what an untuned run uses)",
			s.what, def, pre.defErr)
	case s.haveBest && s.best != def:
		r.Chosen, r.ChosenMs, r.Source = s.best, s.bestMs, FromTuning
		if pre.defErr != nil {
			r.Warning = fmt.Sprintf("%s: the default configuration %q fails its check: %v", s.what, def, pre.defErr)
		}
	case s.survivors == 0 && s.failed > 0:
		r.Source = FromFallback
		r.Warning = fmt.Sprintf("%s: every candidate but the default failed its check (%d failed); first failure: %v; running the default %q",
			s.what, s.failed, s.firstFail, def)
	}
	if r.Warning != "" {
		s.log.Warn("tune: "+r.Warning, "kernel", s.what)
	}
	return r
}

// apply sets r's chosen configuration on t; a configuration t refuses
// (which its check would have caught) leaves the default, with a warning.
func apply(t backend.Tuner, r *Result, log *slog.Logger) {
	if err := t.SetTile(r.P, r.Chosen); err != nil {
		r.Warning = fmt.Sprintf("%s: the device refuses configuration %q: %v; running the default %q",
			describe(r.Target), r.Chosen, err, r.Default)
		log.Warn("tune: "+r.Warning, "kernel", describe(r.Target))
		r.Chosen, r.ChosenMs, r.Source = r.Default, r.DefaultMs, FromFallback
	}
}

// orDiscard is l, or a logger that discards everything when l is nil.
func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
