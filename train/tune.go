package train

import (
	"fmt"
	"log/slog"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/tune"
)

// TuneCache is the tuning cache at tune.DefaultDir, logging to log, or nil
// (results kept in memory) with a warning when there is no user cache
// folder. train, bench, selftest and the tune command all use it.
func TuneCache(log *slog.Logger) *tune.Cache {
	log = orDiscard(log)
	dir, err := tune.DefaultDir()
	if err != nil {
		log.Warn("tuning results are kept in memory only: no user cache folder (set XDG_CACHE_HOME or HOME)", "reason", err)
		return nil
	}
	return &tune.Cache{Dir: dir, Log: log}
}

// ApplyTune applies c.Tune to dev, on which plan was made: tune.Prepare
// with c's budget and the cache at tune.DefaultDir. It logs the cache file
// and, one line each, the configurations other than the default that the
// plan's dispatches now run with. tune: off, or a dev that is no
// backend.Tuner (the reference), changes nothing, logs nothing and returns
// no results. dev must be the backend's device itself, not a wrapper
// around it.
func ApplyTune(dev backend.Device, plan *graph.Plan, c config.Config, log *slog.Logger) ([]tune.Result, error) {
	log = orDiscard(log)
	mode, err := tune.ParseMode(c.Tune)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	tuner, ok := dev.(backend.Tuner)
	if mode == tune.Off || !ok {
		return nil, nil
	}
	o := tune.Options{Budget: c.Budget(), Cache: TuneCache(log), Log: log}
	file := "none (in memory)"
	if o.Cache != nil {
		file = o.Cache.Path(tuner.TuneIdentity())
	}
	results, err := tune.Prepare(dev, plan, mode, o)
	if err != nil {
		return nil, fmt.Errorf("train: tuning (tune: %s) on %s: %w; set --tune off to run the default configurations", mode, DeviceName(dev.Info()), err)
	}
	tuned := 0
	for _, r := range results {
		if r.Chosen != r.Default {
			tuned++
		}
	}
	log.Info("tuning", "mode", mode, "cache", file, "tuned", fmt.Sprintf("%d of %d shapes", tuned, len(results)))
	for _, r := range results {
		if r.Chosen != r.Default {
			log.Info("tuned configuration", "kernel", r.P.Kernel(), "layer", r.Layer+" "+r.Phase, "shape", r.P.Shape(),
				"config", r.Chosen, "from", r.Source)
		}
	}
	return results, nil
}

// applyTune is ApplyTune on every device Run opened, before any wrapper.
func (r *run) applyTune() error {
	for _, op := range r.ops {
		if _, err := ApplyTune(op.raw, op.Plan, r.cfg, r.log); err != nil {
			return err
		}
		LogConvAlgos(op.Plan, r.log)
	}
	return nil
}

// LogConvAlgos logs, at the start of a run on plan, one line listing each
// convolution layer's forward and backward-data algorithm (and the Winograd
// scratch memory), and as a warning the plan's ConvNote when it has one.
func LogConvAlgos(plan *graph.Plan, log *slog.Logger) {
	log = orDiscard(log)
	cs := plan.ConvAlgos()
	if len(cs) == 0 {
		return
	}
	lo := plan.Layout()
	log.Info("convolution algorithms (forward/backward-data/backward-filter)", "conv_algo", lo.Config().ConvAlgo,
		"device", DeviceName(plan.Device().Info()), "layers", graph.ConvAlgoLine(cs), "scratch", graph.MiB(lo.ScratchBytes()))
	if note := lo.ConvNote(); note != "" {
		log.Warn(note)
	}
}
