package parallel

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/graph"
)

// defaultBalanceSteps is Options.BalanceSteps when it is 0.
const defaultBalanceSteps = 3

// state is a Group's working memory: the shares, the balancing
// measurements and the host buffers reused by every step.
type state struct {
	labels   []string  // "replica 1 (vulkan:0)", for errors
	names    []string  // Names, or "replica N", for the shares record
	shares   []float64 // current weights, one per replica (not normalized)
	balanced bool      // shares are final: fixed in Options or measured
	log      *slog.Logger

	timedSteps int             // steps of the balancing round in progress
	timedCount int             // of them, the measured ones (not the warm-up)
	timedTime  []time.Duration // summed Compute of the measured steps
	timedImgs  []int           // summed images of the measured steps
	rounds     int             // balancing rounds finished
	lastRound  []round         // the previous round's means, for the fit

	counts  []int         // this step's images per replica
	offsets []int         // global index of each replica's first image
	stats   []graph.Stats // each replica's shard statistics
	errs    []error       // each replica's error in the last phase
	sums    []uint64      // each replica's checksum
	rem     []float64     // split's scratch
	grads   [][]float32   // each replica's host gradient buffer (allocated at first use)
	acc     []float32     // the summed gradients, then loss*n and correct
	evalAcc []float32     // Eval's loss*n and correct
	timing  Timing
}

func newGroup(plans []*graph.Plan, o Options) (*Group, error) {
	n := len(plans)
	if n == 0 {
		return nil, errors.New("parallel: no plans: give New one plan per device")
	}
	for i, p := range plans {
		if p == nil {
			return nil, fmt.Errorf("parallel: plan %d is nil", i)
		}
	}
	if err := checkOptions(n, o); err != nil {
		return nil, err
	}
	s := &state{
		labels: make([]string, n), names: make([]string, n), shares: make([]float64, n),
		timedTime: make([]time.Duration, n), timedImgs: make([]int, n),
		counts: make([]int, n), offsets: make([]int, n), stats: make([]graph.Stats, n),
		errs: make([]error, n), sums: make([]uint64, n), rem: make([]float64, n),
		grads: make([][]float32, n), evalAcc: make([]float32, 2), log: o.Log,
		timing: Timing{Images: make([]int, n), Compute: make([]time.Duration, n)},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for i := range plans {
		s.names[i] = fmt.Sprintf("replica %d", i)
		s.labels[i] = s.names[i]
		if i < len(o.Names) && o.Names[i] != "" {
			s.names[i] = o.Names[i]
			s.labels[i] += " (" + o.Names[i] + ")"
		}
		s.shares[i] = 1
	}
	if o.Shares != nil {
		copy(s.shares, o.Shares)
	}
	s.balanced = o.Shares != nil || n == 1
	if o.BalanceSteps == 0 {
		o.BalanceSteps = defaultBalanceSteps
	}
	g := &Group{plans: plans, opts: o, state: s}
	if err := g.sameDevices(); err != nil {
		return nil, err
	}
	if err := g.sameStart(); err != nil {
		return nil, err
	}
	return g, nil
}

func checkOptions(n int, o Options) error {
	if o.Names != nil && len(o.Names) != n {
		return fmt.Errorf("parallel: %d names for %d plans: give one name per plan", len(o.Names), n)
	}
	if o.Shares != nil {
		if len(o.Shares) != n {
			return fmt.Errorf("parallel: %d shares for %d plans: give one share per plan (device_shares)", len(o.Shares), n)
		}
		for i, v := range o.Shares {
			if !(v > 0) || math.IsInf(v, 0) {
				return fmt.Errorf("parallel: share %d is %v: shares must be positive finite weights (device_shares)", i, v)
			}
		}
	}
	if o.BalanceSteps < 0 {
		return fmt.Errorf("parallel: BalanceSteps %d is negative: use 0 for the default of %d", o.BalanceSteps, defaultBalanceSteps)
	}
	if o.ChecksumEvery < 0 {
		return fmt.Errorf("parallel: ChecksumEvery %d is negative: use 0 to never compare checksums", o.ChecksumEvery)
	}
	if r := o.Reducer; r != nil && (r.Size() < 1 || r.Rank() < 0 || r.Rank() >= r.Size()) {
		return fmt.Errorf("parallel: the reducer is rank %d of %d: need 0 <= rank < size", r.Rank(), r.Size())
	}
	return nil
}

// sameDevices refuses two plans on one device: the replicas run
// concurrently and a Device is not safe for concurrent use.
func (g *Group) sameDevices() error {
	for i, p := range g.plans {
		for j := range i {
			if sameDevice(p.Device(), g.plans[j].Device()) {
				return fmt.Errorf("parallel: %s and %s are planned on the same device: open one device per replica", g.labels[j], g.labels[i])
			}
		}
	}
	return nil
}

func sameDevice(a, b backend.Device) bool {
	t := reflect.TypeOf(a)
	return t != nil && t == reflect.TypeOf(b) && t.Comparable() && a == b
}

// sameStart checks that every replica (and every rank) holds the same
// model, parameters and optimizer state.
func (g *Group) sameStart() error {
	if g.single() {
		return nil
	}
	want := g.plans[0].GradLen()
	for i, p := range g.plans[1:] {
		if got := p.GradLen(); got != want {
			return fmt.Errorf("parallel: %s has %d parameter values, %s has %d: plan the same model on every replica", g.labels[i+1], got, g.labels[0], want)
		}
	}
	if err := g.checksums(); err != nil {
		return err
	}
	local := g.differing()
	ok, err := g.agree() // collective: called even when the replicas differ here
	switch {
	case err != nil:
		return err
	case local != "":
		return fmt.Errorf("parallel: the replicas start from different parameters (%s): load the same weights into every replica", local)
	case !ok:
		return fmt.Errorf("parallel: the ranks start from different parameters (%s): load the same weights on every rank", g.rankSum())
	}
	return nil
}

// single reports whether the group is one replica in one process, which
// trains exactly as the plan alone.
func (g *Group) single() bool { return len(g.plans) == 1 && g.opts.Reducer == nil }

// checksums fills sums with every replica's Checksum.
func (g *Group) checksums() error {
	return g.each(func(r int) error {
		var err error
		g.sums[r], err = g.plans[r].Checksum()
		return err
	}, -1)
}

// differing lists the replicas whose checksum differs from replica 0's, or
// "" when they all agree.
func (g *Group) differing() string {
	var parts []string
	for r, c := range g.sums {
		if c != g.sums[0] {
			parts = append(parts, fmt.Sprintf("%s has checksum %016x", g.labels[r], c))
		}
	}
	if parts == nil {
		return ""
	}
	return fmt.Sprintf("%s has checksum %016x, %s", g.labels[0], g.sums[0], strings.Join(parts, ", "))
}

// agree asks the Reducer whether every rank has replica 0's checksum
// (true without a Reducer).
func (g *Group) agree() (bool, error) {
	red := g.opts.Reducer
	if red == nil {
		return true, nil
	}
	ok, err := red.Agree(g.sums[0])
	if err != nil {
		return false, fmt.Errorf("parallel: comparing checksums across ranks: %w", err)
	}
	return ok, nil
}

// rankSum describes this rank's checksum for a disagreement.
func (g *Group) rankSum() string {
	red := g.opts.Reducer
	return fmt.Sprintf("rank %d of %d has checksum %016x, another rank differs", red.Rank(), red.Size(), g.sums[0])
}

// normalized returns w scaled to sum to 1 (a new slice).
func normalized(w []float64) []float64 {
	total := 0.0
	for _, v := range w {
		total += v
	}
	out := make([]float64, len(w))
	for i, v := range w {
		out[i] = v / total
	}
	return out
}

func (t Timing) clone() Timing {
	t.Images = append([]int(nil), t.Images...)
	t.Compute = append([]time.Duration(nil), t.Compute...)
	return t
}
