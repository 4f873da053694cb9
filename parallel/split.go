package parallel

import (
	"errors"
	"fmt"
	"math"
	"runtime/debug"
)

// rankSlice is the contiguous part [lo, hi) of a global batch of b images
// that rank r of size trains on.
func rankSlice(r, size, b int) (lo, hi int) { return r * b / size, (r + 1) * b / size }

// split divides n images over the replicas in proportion to weights by
// largest-remainder rounding into counts (ties go to the later replica, so
// that two equal shares split n as two ranks do); rem is scratch of the
// same length.
func split(n int, weights []float64, counts []int, rem []float64) {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	given := 0
	for i, w := range weights {
		q := float64(n) * w / total
		c := int(math.Floor(q))
		counts[i], rem[i] = c, q-float64(c)
		given += c
	}
	for ; given < n; given++ {
		best := 0
		for i := range rem {
			if rem[i] >= rem[best] {
				best = i
			}
		}
		counts[best]++
		rem[best] = -1
	}
	for ; given > n; given-- { // rounding made the floors overshoot
		best := -1
		for i := range rem {
			if counts[i] > 0 && (best < 0 || rem[i] < rem[best]) {
				best = i
			}
		}
		counts[best]--
		rem[best] = 2
	}
}

// each runs f for every replica, each in its own goroutine (one device is
// never used by two), waits for all of them and returns their errors, each
// naming its replica and the phase (step, 0 for evaluation, -1 for a
// checksum), joined in replica order.
func (g *Group) each(f func(r int) error, step int) error {
	run := func(r int) {
		if err := safe(r, f); err != nil {
			g.errs[r] = fmt.Errorf("parallel: %s: %s: %w", g.labels[r], phaseOrChecksum(step), err)
		} else {
			g.errs[r] = nil
		}
	}
	if len(g.plans) == 1 {
		run(0)
		return g.errs[0]
	}
	done := make(chan struct{}, len(g.plans))
	for r := range g.plans {
		go func() {
			run(r)
			done <- struct{}{}
		}()
	}
	for range g.plans {
		<-done
	}
	var failed []error
	for _, err := range g.errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) == 1 {
		return failed[0]
	}
	return errors.Join(failed...)
}

func phaseOrChecksum(step int) string {
	if step < 0 {
		return "checksum"
	}
	return phase(step)
}

// safe runs f(r), turning a panic into an error so that one replica's
// crash cannot take down the goroutines of the others.
func safe(r int, f func(int) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return f(r)
}
