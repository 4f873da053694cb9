package parallel

import (
	"log/slog"
	"math"
)

// BalanceRounds bounds the measuring rounds of Options.BalanceSteps steps
// each: after BalanceRounds*BalanceSteps steps a Group is Balanced.
const BalanceRounds = 4

// balanceTarget ends the rounds early once the replicas' times of a round
// differ by at most that fraction of the slowest.
const balanceTarget = 0.05

// round is one replica's mean images and Compute seconds per step over a
// balancing round.
type round struct{ n, t float64 }

// balance records the last step's Compute times while the shares are
// being measured. Every BalanceSteps steps (the very first step a warm-up,
// not counted, when BalanceSteps > 1) it ends a round: each replica's time
// per step is modelled as a fixed cost plus a cost per image (fitted from
// its last two rounds; only per image after the first), and the shares are
// set so that every replica's modelled time is the same. It stops after
// BalanceRounds rounds or once a round's times agree within balanceTarget,
// and logs the final shares once.
func (g *Group) balance() {
	if g.balanced {
		return
	}
	g.timedSteps++
	warmup := g.rounds == 0 && g.timedSteps == 1 && g.opts.BalanceSteps > 1
	if !warmup {
		for r, n := range g.timing.Images {
			if n > 0 {
				g.timedTime[r] += g.timing.Compute[r]
				g.timedImgs[r] += n
			}
		}
		g.timedCount++
	}
	if g.timedSteps < g.opts.BalanceSteps {
		return
	}
	cur := make([]round, len(g.plans))
	for r := range cur {
		if g.timedImgs[r] > 0 && g.timedCount > 0 {
			cur[r] = round{float64(g.timedImgs[r]) / float64(g.timedCount), g.timedTime[r].Seconds() / float64(g.timedCount)}
		}
	}
	g.rounds++
	imbalance := spread(cur)
	if next, ok := equalTimeShares(cur, g.lastRound); ok && imbalance > balanceTarget && g.rounds < BalanceRounds {
		copy(g.shares, next)
	} else {
		if ok && imbalance > balanceTarget {
			copy(g.shares, next)
		}
		g.balanced = true
		ms := make([]float64, len(cur))
		for r, c := range cur {
			if c.n > 0 {
				ms[r] = c.t * 1e3 / c.n
			}
		}
		g.log.Info("device shares", slog.Any("names", g.names), slog.Any("shares", normalized(g.shares)),
			slog.Any("ms_per_image", ms), slog.Int("rounds", g.rounds), slog.Float64("last_round_spread", imbalance))
	}
	g.lastRound = cur
	g.timedSteps, g.timedCount = 0, 0
	for r := range g.timedTime {
		g.timedTime[r], g.timedImgs[r] = 0, 0
	}
}

// spread is (max - min) / max of the times of the replicas that had images.
func spread(rs []round) float64 {
	lo, hi := math.Inf(1), 0.0
	for _, r := range rs {
		if r.n > 0 {
			lo, hi = min(lo, r.t), max(hi, r.t)
		}
	}
	if hi == 0 {
		return 0
	}
	return (hi - lo) / hi
}

// equalTimeShares returns image counts (as weights) for which every
// replica's modelled time a + b*n is the same, with a and b fitted from
// cur and prev where both measured different counts, else a = 0 and b =
// t/n. A replica never measured gets the mean cost per image; every
// replica gets at least one image when there are as many images as
// replicas. false when no replica was measured.
func equalTimeShares(cur, prev []round) ([]float64, bool) {
	a, b := make([]float64, len(cur)), make([]float64, len(cur))
	total, known, meanB := 0.0, 0, 0.0
	for r, c := range cur {
		total += c.n
		if c.n <= 0 || c.t <= 0 {
			continue
		}
		b[r] = c.t / c.n
		if prev != nil && prev[r].n > 0 && math.Abs(prev[r].n-c.n) >= 1 {
			slope := (c.t - prev[r].t) / (c.n - prev[r].n)
			if fixed := c.t - slope*c.n; slope > 0 && fixed >= 0 {
				a[r], b[r] = fixed, slope
			}
		}
		meanB += b[r]
		known++
	}
	if known == 0 || total <= 0 {
		return nil, false
	}
	meanB /= float64(known)
	for r := range b {
		if b[r] == 0 {
			b[r] = meanB
		}
	}
	// Solve sum_r (T - a_r)/b_r = total for T, dropping replicas whose
	// fixed cost alone exceeds T (they get no images).
	active := make([]bool, len(cur))
	for r := range active {
		active[r] = true
	}
	out := make([]float64, len(cur))
	for {
		num, den := total, 0.0
		for r := range b {
			if active[r] {
				num += a[r] / b[r]
				den += 1 / b[r]
			}
		}
		T, dropped := num/den, false
		for r := range b {
			out[r] = 0
			if active[r] {
				if out[r] = (T - a[r]) / b[r]; out[r] <= 0 {
					active[r], dropped = false, true
				}
			}
		}
		if !dropped {
			break
		}
	}
	if total >= float64(len(out)) {
		raised, rest := 0.0, 0.0 // every listed device keeps at least one image, taken from the others
		for r := range out {
			if out[r] < 1 {
				raised += 1 - out[r]
				out[r] = 1
			} else {
				rest += out[r] - 1
			}
		}
		for r := range out {
			if out[r] > 1 && rest > 0 {
				out[r] -= raised * (out[r] - 1) / rest
			}
		}
	}
	return out, true
}

// Balanced reports whether the shares are final: fixed in Options, one
// replica, or measured to the end.
func (g *Group) Balanced() bool { return g.balanced }
