package parallel

import (
	"log/slog"
	"time"
)

// balance records the last step's Compute times while the shares are
// being measured; after BalanceSteps steps (the first one a warm-up, not
// counted, when there are several) it sets each replica's share in
// proportion to its speed in images per second and logs the shares once.
func (g *Group) balance() {
	if g.balanced {
		return
	}
	g.timedSteps++
	if g.timedSteps > 1 || g.opts.BalanceSteps == 1 {
		for r, n := range g.timing.Images {
			if n > 0 {
				g.timedTime[r] += g.timing.Compute[r]
				g.timedImgs[r] += n
			}
		}
	}
	if g.timedSteps < g.opts.BalanceSteps {
		return
	}
	g.balanced = true
	speed := make([]float64, len(g.plans))
	msPerImage := make([]float64, len(g.plans))
	known, mean := 0, 0.0
	for r, d := range g.timedTime {
		if g.timedImgs[r] > 0 && d > 0 {
			speed[r] = float64(g.timedImgs[r]) / d.Seconds()
			msPerImage[r] = float64(d) / float64(time.Millisecond) / float64(g.timedImgs[r])
			mean += speed[r]
			known++
		}
	}
	if known == 0 {
		return // no replica measured (batches too small): keep equal shares
	}
	mean /= float64(known)
	for r := range speed {
		if speed[r] == 0 {
			speed[r] = mean // never had an image: assume an average replica
		}
	}
	copy(g.shares, speed)
	g.log.Info("device shares", slog.Any("names", g.names), slog.Any("shares", normalized(g.shares)),
		slog.Any("ms_per_image", msPerImage))
}
