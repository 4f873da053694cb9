package tune

import (
	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/graph"
)

// prepare is Prepare.
func prepare(dev backend.Device, plan *graph.Plan, mode Mode, o Options) ([]Result, error) {
	t, ok := dev.(backend.Tuner)
	if !ok {
		return nil, nil
	}
	if _, err := ParseMode(string(mode)); err != nil {
		return nil, err
	}
	targets, err := Targets(plan)
	if err != nil {
		return nil, err
	}
	results := make([]Result, len(targets))
	for i, tg := range targets {
		def := t.DefaultTile(tg.P)
		results[i] = Result{Target: tg, Default: def, Chosen: def, Source: FromDefault}
	}
	if mode == Off {
		return results, nil
	}
	log := orDiscard(o.Log)
	entries := map[backend.TuneKey]Entry{}
	if o.Cache != nil {
		loaded, err := o.Cache.Load(t)
		if err != nil {
			o.Cache.inMemory(log, err)
		} else {
			entries = loaded
		}
	}
	var missing []int
	var tuned []Result
	for i, tg := range targets {
		e, ok := entries[backend.KeyOf(tg.P)]
		if ok {
			if err := t.SetTile(tg.P, e.Config); err != nil {
				log.Warn("tune: ignoring cache entry the device refuses", "kernel", describe(tg),
					"config", string(e.Config), "reason", err.Error())
				ok = false
			}
		}
		if !ok {
			missing = append(missing, i)
			continue
		}
		r := &results[i]
		r.Chosen, r.ChosenMs, r.DefaultMs, r.Source = e.Config, e.Ms, e.DefaultMs, FromCache
	}
	if mode == Auto && len(missing) > 0 {
		todo := make([]Target, len(missing))
		for k, i := range missing {
			todo[k] = targets[i]
		}
		to := o
		to.Budget = TileBudget(plan, orDefault(o.Budget))
		tuned, err = Tune(dev, todo, to)
		if err != nil {
			return nil, err
		}
		for k, i := range missing {
			results[i] = tuned[k]
		}
	}
	if _, err := chooseAlgos(dev, t, plan, mode, entries, measuredNow(tuned), o, log); err != nil {
		return nil, err
	}
	return results, nil
}
