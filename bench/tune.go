package bench

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/train"
	"github.com/crossgrad/crossgrad/tune"
)

// squareSide is the side of the square SGEMM among the extra kernels.
const squareSide = 1024

// squareGemm is the extra kernels' square SGEMM, the size GEMM libraries
// are usually quoted at.
func squareGemm() backend.Gemm {
	return backend.Gemm{M: squareSide, N: squareSide, K: squareSide, Alpha: 1}
}

// tiles knows the tile configuration each tiled dispatch of a benchmarked
// device runs with.
type tiles struct {
	t      backend.Tuner // nil: the device has no tile engine
	chosen map[backend.TuneKey]backend.TileConfig
}

// of is the default and the chosen configuration of p, "" for both when p
// is not tiled or the device has no tile engine.
func (t tiles) of(p backend.Params) (def, chosen string) {
	if t.t == nil || !backend.IsTiled(p.Kernel()) {
		return "", ""
	}
	d := t.t.DefaultTile(p)
	c, ok := t.chosen[backend.KeyOf(p)]
	if !ok || c == "" {
		c = d
	}
	return string(d), string(c)
}

// prepareTune applies o.Config.Tune to dev for plan as train does
// (train.ApplyTune), and the same to the square SGEMM of the extra
// kernels: its cached configuration with tune: cached or auto, tuned
// within another tune_budget when auto finds none. It fills r's tuning
// figures; a failure goes to r.Err and the benchmark goes on with the
// configurations set so far.
func prepareTune(dev backend.Device, plan *graph.Plan, o Options, r *DeviceReport) tiles {
	t, ok := dev.(backend.Tuner)
	if !ok {
		return tiles{}
	}
	ts := tiles{t: t, chosen: map[backend.TuneKey]backend.TileConfig{}}
	r.Tune = o.Config.Tune
	if o.Config.Tune == string(tune.Off) {
		return ts
	}
	fmt.Fprintf(o.Log, "bench:   tuning (tune: %s, budget %s)\n", o.Config.Tune, o.Config.TuneBudget)
	results, err := train.ApplyTune(dev, plan, o.Config, o.Logger)
	if err != nil {
		r.Err = joinErr(r.Err, err.Error())
		return ts
	}
	for _, res := range results {
		ts.chosen[backend.KeyOf(res.P)] = res.Chosen
		if res.Chosen != res.Default {
			r.TunedShapes++
		}
	}
	r.TiledShapes = len(results)
	cache := train.TuneCache(o.Logger)
	if cache != nil {
		r.TuneCache = cache.Path(t.TuneIdentity())
	}
	if err := ts.prepareSquare(dev, o, cache); err != nil {
		r.Err = joinErr(r.Err, fmt.Sprintf("tuning the extra %s: %v", ShapeOf(squareGemm()), err))
	}
	return ts
}

// prepareSquare sets the square SGEMM's cached configuration, or with
// tune: auto tunes it when the cache has none.
func (ts tiles) prepareSquare(dev backend.Device, o Options, cache *tune.Cache) error {
	sq := squareGemm()
	key := backend.KeyOf(sq)
	if cache != nil {
		entries, err := cache.Load(ts.t)
		if err != nil {
			return err
		}
		if e, ok := entries[key]; ok {
			if err := ts.t.SetTile(sq, e.Config); err != nil {
				return err
			}
			ts.chosen[key] = e.Config
			return nil
		}
	}
	if o.Config.Tune != string(tune.Auto) {
		return nil
	}
	res, err := tune.Tune(dev, []tune.Target{{Layer: "extra", Phase: graph.PhaseForward, P: sq}}, tune.Options{Budget: o.Config.Budget(), Cache: cache, Log: o.Logger})
	if err != nil {
		return err
	}
	if len(res) == 1 {
		ts.chosen[key] = res[0].Chosen
	}
	return nil
}
