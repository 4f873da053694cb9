package tune

import "time"

// alternativeWeight scales the share of a Target.Alternative: its tiles
// matter only where that algorithm then wins, and on the seed's plan on
// PoCL the alternatives' arithmetic, weighted fully, took half the budget
// and left most of the plan's own gemms untuned in 2 minutes.
const alternativeWeight = 0.25

// minShareRuns is the number of checks of its default that each target's
// share of the budget holds at least.
const minShareRuns = 4

// shareWeights are the weights by which the budget left is split among the
// measured targets: each gets at least minShareRuns times its default's
// check cost, and what remains goes by the dispatches' arithmetic and
// traffic (evenly when none has any).
func shareWeights(pre []prelim, left time.Duration) []float64 {
	var minSum time.Duration
	var msSum float64
	n := 0
	for _, p := range pre {
		if p.measured {
			minSum += minShareRuns * p.cost
			msSum += p.weight
			n++
		}
	}
	extra := float64(left - minSum)
	w := make([]float64, len(pre))
	for i, p := range pre {
		if !p.measured {
			continue
		}
		w[i] = float64(minShareRuns * p.cost)
		switch {
		case extra <= 0:
		case msSum > 0:
			w[i] += extra * p.weight / msSum
		default:
			w[i] += extra / float64(n)
		}
	}
	return w
}

// shareOf is target i's share of the budget left now: left in the
// proportion of its weight to the weights of the targets from i on, so
// that what an earlier target left unused goes to the later ones.
func shareOf(w []float64, i int, left time.Duration) time.Duration {
	var rest float64
	for _, v := range w[i:] {
		rest += v
	}
	if rest <= 0 || left <= 0 {
		return 0
	}
	return time.Duration(float64(left) * w[i] / rest)
}

// orDefault is budget, or DefaultBudget when budget <= 0.
func orDefault(budget time.Duration) time.Duration {
	if budget <= 0 {
		return DefaultBudget
	}
	return budget
}
