package tune

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/graph"
)

// targetsOf lists the distinct tiled dispatches of training step 1 over a
// full batch of plan (TrainStepParts queues nothing), each named by the
// first layer and phase that dispatches it, then those of the other
// convolution algorithm of the passes the tuner chooses for (altTargets).
func targetsOf(plan *graph.Plan) ([]Target, error) {
	if plan == nil {
		return nil, fmt.Errorf("tune: no training plan to find the tiled dispatches of")
	}
	parts, err := plan.TrainStepParts(1, plan.Batch())
	if err != nil {
		return nil, fmt.Errorf("tune: listing the dispatches of a training step: %w", err)
	}
	seen := map[backend.TuneKey]bool{}
	var out []Target
	for _, part := range parts {
		for _, d := range part.Dispatches {
			if !backend.IsTiled(d.P.Kernel()) {
				continue
			}
			k := backend.KeyOf(d.P)
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, Target{Layer: part.Layer, Phase: part.Phase, P: d.P})
		}
	}
	alt, err := altTargets(plan)
	if err != nil {
		return nil, fmt.Errorf("tune: listing the dispatches of the other convolution algorithm: %w", err)
	}
	for _, tg := range alt {
		if k := backend.KeyOf(tg.P); !seen[k] {
			seen[k] = true
			out = append(out, tg)
		}
	}
	return out, nil
}

// describe names target t, e.g. "gemm M8 N4096 K6400 B^T (fc.1 forward)".
func describe(t Target) string {
	return fmt.Sprintf("%s (%s %s)", backend.KeyOf(t.P), t.Layer, t.Phase)
}
