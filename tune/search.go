package tune

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/crossgrad/crossgrad/backend"
)

// Search: a coarse pass over the first coarseSize candidates in the
// backend's cost-model order, then hill climbing over the candidates that
// differ from the best in one or two parameters; again from the next
// coarseSize candidates while a round improves. A candidate replaces the
// best only when it is faster by more than margin (timing noise); a round
// of refinement tries at most maxNeighbours candidates.
const (
	coarseSize    = 8
	maxNeighbours = 16
	margin        = 0.01
)

// search is the tuning of one target: what it tried and the best so far.
type search struct {
	dev      backend.Device
	t        backend.Tuner
	p        backend.Params
	b        *bench
	log      *slog.Logger
	what     string
	deadline time.Time     // the end of the share (restartShare)
	hard     time.Time     // the end of the whole budget
	share    time.Duration // the target's share of the budget
	cost     time.Duration // the longest evaluation so far: the estimate of the next

	tried     map[backend.TileConfig]bool
	best      backend.TileConfig
	bestMs    float64
	haveBest  bool
	second    backend.TileConfig // the runner-up timed at the same shape as best
	secondMs  float64
	others    int   // candidates other than the default evaluated
	timed     int   // candidates timed, the default included
	survivors int   // candidates other than the default that were timed
	failed    int   // candidates discarded
	firstFail error // the first discarded candidate's failure
}

// restartShare makes the share run from now (not past the budget's end):
// the defaults' timings, which every target pays, stay outside it.
func (s *search) restartShare() {
	s.deadline = s.hard
	if end := time.Now().Add(s.share); end.Before(s.hard) {
		s.deadline = end
	}
}

// hasTime reports whether one more evaluation fits before the deadline.
func (s *search) hasTime() bool { return time.Until(s.deadline) > s.cost }

// faster reports whether a time of ms beats the best so far.
func (s *search) faster(ms float64) bool { return !s.haveBest || ms < s.bestMs*(1-margin) }

// evaluate checks c, runs it at the real shape against the default's
// output and times it; a failure discards c (logged) and only a lost
// device is an error.
func (s *search) evaluate(c backend.TileConfig) error {
	s.tried[c] = true
	s.others++
	start := time.Now()
	ms, err := s.measure(c)
	s.cost = max(s.cost, time.Since(start))
	if errors.Is(err, backend.ErrDeviceLost) {
		return fmt.Errorf("tune: %s: configuration %q: %w", s.what, c, err)
	}
	if err != nil {
		s.failed++
		if s.firstFail == nil {
			s.firstFail = err
		}
		s.log.Info("tune: candidate discarded", "kernel", s.what, "config", string(c), "reason", err.Error())
		return nil
	}
	s.timed++
	s.survivors++
	s.log.Debug("tune: candidate timed", "kernel", s.what, "config", string(c), "ms", ms, "took", time.Since(start))
	s.place(c, ms)
	return nil
}

// place records c's time ms: the new best when it beats the best (which
// becomes the runner-up), else the runner-up when it beats that.
func (s *search) place(c backend.TileConfig, ms float64) {
	switch {
	case s.faster(ms):
		if s.haveBest {
			s.second, s.secondMs = s.best, s.bestMs
		}
		s.best, s.bestMs, s.haveBest = c, ms, true
	case s.second == "" || ms < s.secondMs:
		s.second, s.secondMs = c, ms
	}
}

// When the runner-up's time is within tileRecheckMargin of the best's,
// both are timed again, alternately, one run each for up to tileRechecks
// rounds while the share lasts, and the fastest run of each decides: on a
// shared host a candidate timed while another process runs can lose
// against one timed a second later (on lavapipe, cpu-quick's conv.10
// forward chose single filter loads at 31.9 ms in one tune where conv.6's,
// of the same work, ran 4-wide at 24.5).
const (
	tileRecheckMargin = 1.25
	tileRechecks      = 3
)

// recheck times the best and the runner-up again while they are close
// (tileRecheckMargin, tileRechecks), and returns the rounds it ran.
func (s *search) recheck() (int, error) {
	rounds := 0
	for ; rounds < tileRechecks && s.haveBest && s.second != "" && s.secondMs <= tileRecheckMargin*s.bestMs; rounds++ {
		if time.Until(s.deadline) < 2*time.Duration((s.bestMs+s.secondMs)*float64(time.Millisecond)) {
			break
		}
		b, err := s.b.once(s.best)
		if err != nil {
			return rounds, err
		}
		r, err := s.b.once(s.second)
		if err != nil {
			return rounds, err
		}
		s.bestMs, s.secondMs = min(s.bestMs, b), min(s.secondMs, r)
		if s.secondMs < s.bestMs*(1-margin) {
			s.best, s.second = s.second, s.best
			s.bestMs, s.secondMs = s.secondMs, s.bestMs
		}
	}
	return rounds, nil
}

// measure is c's median time at the real shape, or why c is discarded.
func (s *search) measure(c backend.TileConfig) (float64, error) {
	if err := check(s.dev, s.p, c); err != nil {
		return 0, err
	}
	got, warm, err := s.b.run(c)
	if err == nil && s.b.want != nil {
		err = s.b.compare(got)
	}
	if err == nil {
		var ms float64
		ms, err = s.b.timeAfter(c, warm, s.deadline, s.hard, s.bestMs)
		if err == nil {
			return ms, nil
		}
	}
	return 0, fmt.Errorf("configuration %q at the real shape: %w", c, err)
}

// run searches cands (the candidates other than the default, in the
// backend's order) while the deadline allows, in rounds while they
// improve: the next coarseSize untried candidates (more while none has
// passed), then refinement around the best. A round whose coarse pass
// cannot beat the best it started from (the default, at first) ends the
// search: the share left goes to the later targets, where it buys more
// than climbing around a configuration eight others could not beat.
func (s *search) run(cands []backend.TileConfig) error {
	next := 0
	for {
		from, had := s.best, s.haveBest
		for n := 0; next < len(cands) && (n < coarseSize || !s.haveBest); next++ {
			if s.tried[cands[next]] {
				continue
			}
			if !s.hasTime() {
				return nil
			}
			if err := s.evaluate(cands[next]); err != nil {
				return err
			}
			n++
		}
		if had && s.best == from {
			return nil
		}
		if err := s.refine(cands); err != nil {
			return err
		}
		improved := s.haveBest && (!had || s.best != from)
		if !improved || next >= len(cands) {
			return nil
		}
	}
}

// refine climbs from the best to a faster neighbour while there is one.
func (s *search) refine(cands []backend.TileConfig) error {
	for s.haveBest {
		from := s.best
		for _, c := range neighbours(from, cands, s.tried) {
			if !s.hasTime() {
				return nil
			}
			if err := s.evaluate(c); err != nil {
				return err
			}
			if s.best != from {
				break
			}
		}
		if s.best == from {
			return nil
		}
	}
	return nil
}

// neighbours are the untried candidates that differ from c in one or two
// parameters (ParseTile), those differing in one first, each group in
// cands order, at most maxNeighbours.
func neighbours(c backend.TileConfig, cands []backend.TileConfig, tried map[backend.TileConfig]bool) []backend.TileConfig {
	from, err := tileMap(c)
	if err != nil {
		return nil
	}
	var one, two []backend.TileConfig
	for _, d := range cands {
		if tried[d] {
			continue
		}
		to, err := tileMap(d)
		if err != nil {
			continue
		}
		switch distance(from, to) {
		case 1:
			one = append(one, d)
		case 2:
			two = append(two, d)
		}
	}
	out := append(one, two...)
	return out[:min(len(out), maxNeighbours)]
}

// tileMap is backend.ParseTile(c) as a map from name to value.
func tileMap(c backend.TileConfig) (map[string]int, error) {
	ps, err := backend.ParseTile(c)
	if err != nil {
		return nil, err
	}
	m := make(map[string]int, len(ps))
	for _, p := range ps {
		m[p.Name] = p.Value
	}
	return m, nil
}

// distance is the number of parameters whose values differ between a and
// b, a parameter only one of them has counting as different.
func distance(a, b map[string]int) int {
	n := 0
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			n++
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			n++
		}
	}
	return n
}

// candidatesOf is t's candidates for p other than def, without duplicates,
// in the backend's order.
func candidatesOf(t backend.Tuner, p backend.Params, def backend.TileConfig) []backend.TileConfig {
	var out []backend.TileConfig
	for _, c := range t.TileCandidates(p) {
		if c != def && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// hintsFirst is cands with the members of hints moved to the front, in
// hints' order: a configuration that won for another shape of the same
// kernel is built already and often wins again, so a short share tries it
// before paying for new builds.
func hintsFirst(cands, hints []backend.TileConfig) []backend.TileConfig {
	out := make([]backend.TileConfig, 0, len(cands))
	for _, h := range hints {
		if slices.Contains(cands, h) && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	for _, c := range cands {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}
