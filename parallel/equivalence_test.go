package parallel_test

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/crossgrad/crossgrad/parallel"
)

// Equivalence of 20 training steps (tiny AlexNet, dropout 0.5, global
// batch 13 on ref, 7 on PoCL and lavapipe, whose time grows with it) on one plan, on a Group of two plans and on two in-process
// ranks, against the one-plan run on the first device:
//
//	loss of every step: |d| <= 1e-5 + 1e-5*|loss|
//	parameters:         |d| <= 2e-5 + 1e-4*|p|
//
// The sharded runs sum the gradient in another order (shard means scaled
// by n/B instead of one mean over B), float32 rounding that the updates
// carry into the parameters: measured, at most 5e-7 in the loss and 1e-6
// in a parameter on ref, PoCL and lavapipe. 2e-5 is a fiftieth of one Adam
// step (lr 1e-3). A Group of two plans with equal shares and two ranks of
// one plan split the batch at the same image and sum in the same order:
// they agree bit for bit.
const (
	equivSteps     = 20
	equivBatch     = 13
	equivGPUBatch  = 7
	equivLossAtol  = 1e-5
	equivLossRtol  = 1e-5
	equivParamAtol = 2e-5
	equivParamRtol = 1e-4
)

// trained is what a run left: the loss of every step and every replica's
// parameters.
type trained struct {
	losses []float32
	params [][]graph.HostTensor
}

func trainPlain(t *testing.T, p *graph.Plan, bs []globalBatch) trained {
	t.Helper()
	var out trained
	for s, b := range bs {
		require.NoError(t, p.UploadPacked(b.images, b.labels))
		st, err := p.TrainStep(s+1, len(b.labels))
		require.NoError(t, err)
		out.losses = append(out.losses, st.Loss)
	}
	ps, err := p.ReadParams()
	require.NoError(t, err)
	out.params = [][]graph.HostTensor{ps}
	return out
}

// trainGroup trains g on bs, checks its replicas agree and reads their
// parameters; errors are returned, not failed on, so that ranks may run it
// in their own goroutines.
func trainGroup(g *parallel.Group, bs []globalBatch) (trained, error) {
	var out trained
	for s, b := range bs {
		st, err := g.TrainStep(s+1, b.images, b.labels)
		if err != nil {
			return out, err
		}
		if st.N != len(b.labels) {
			return out, fmt.Errorf("step %d: N = %d for %d images", s+1, st.N, len(b.labels))
		}
		out.losses = append(out.losses, st.Loss)
	}
	if err := g.Check(); err != nil {
		return out, err
	}
	for _, p := range g.Plans() {
		ps, err := p.ReadParams()
		if err != nil {
			return out, err
		}
		out.params = append(out.params, ps)
	}
	return out, nil
}

// trainNew is trainGroup on a new group of plans.
func trainNew(t *testing.T, plans []*graph.Plan, o parallel.Options, bs []globalBatch) trained {
	t.Helper()
	g, err := parallel.New(plans, o)
	require.NoError(t, err)
	out, err := trainGroup(g, bs)
	require.NoError(t, err)
	return out
}

// newRanks makes one group per rank (New is collective: each in its own
// goroutine), the ranks joined by a hub.
func newRanks(t *testing.T, ranks [][]*graph.Plan, o parallel.Options) []*parallel.Group {
	t.Helper()
	h := newHub(t, len(ranks))
	groups := make([]*parallel.Group, len(ranks))
	errs := make([]error, len(ranks))
	var wg sync.WaitGroup
	for r, plans := range ranks {
		wg.Go(func() {
			ro := o
			ro.Reducer = fakeReducer{h, r}
			groups[r], errs[r] = parallel.New(plans, ro)
		})
	}
	wg.Wait()
	for r, err := range errs {
		require.NoError(t, err, "rank %d", r)
	}
	return groups
}

// onRanks runs f for every rank in its own goroutine and fails on any
// rank's error.
func onRanks(t *testing.T, groups []*parallel.Group, f func(r int, g *parallel.Group) error) {
	t.Helper()
	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	for r, g := range groups {
		wg.Go(func() { errs[r] = f(r, g) })
	}
	wg.Wait()
	for r, err := range errs {
		require.NoError(t, err, "rank %d", r)
	}
}

// trainRanks trains one group per rank, each in its own goroutine, summed
// through a hub, and returns every rank's result.
func trainRanks(t *testing.T, ranks [][]*graph.Plan, bs []globalBatch) []trained {
	t.Helper()
	groups := newRanks(t, ranks, parallel.Options{ChecksumEvery: 5})
	out := make([]trained, len(ranks))
	onRanks(t, groups, func(r int, g *parallel.Group) error {
		var err error
		out[r], err = trainGroup(g, bs)
		return err
	})
	return out
}

func requireEquivalent(t *testing.T, got, ref trained, what string) {
	t.Helper()
	testutil.RequireClose(t, got.losses, testutil.To64(ref.losses), equivLossAtol, equivLossRtol, what+" losses")
	for r, ps := range got.params {
		for i, p := range ps {
			testutil.RequireClose(t, p.Data, testutil.To64(ref.params[0][i].Data), equivParamAtol, equivParamRtol,
				fmt.Sprintf("%s replica %d %s", what, r, p.Name))
		}
	}
	t.Logf("%s: loss %.6f -> %.6f, max |d| loss %.3g, params %.3g", what, got.losses[0], got.losses[len(got.losses)-1],
		maxDiff(got.losses, ref.losses), maxParamDiff(got.params[0], ref.params[0]))
}

func maxDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

func maxParamDiff(a, b []graph.HostTensor) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, maxDiff(a[i].Data, b[i].Data))
	}
	return m
}

func requireSameBits(t *testing.T, got, want trained, what string) {
	t.Helper()
	require.Equal(t, want.losses, got.losses, what+" losses")
	for r := range got.params {
		for i, p := range got.params[r] {
			require.Equal(t, want.params[0][i].Data, p.Data, "%s replica %d %s", what, r, p.Name)
		}
	}
}

// TestEquivalentOnOneTwoPlansAndTwoRanks trains the same 20 global batches
// on one plan, a Group of two plans with equal shares and two in-process
// ranks of one plan, on each pair of devices whose drivers are present, and
// with balanced shares where the pair's speeds differ (ref+ref, whose
// replicas time alike, and PoCL+lavapipe). Each run plans afresh on the
// pair's two devices, opened once.
func TestEquivalentOnOneTwoPlansAndTwoRanks(t *testing.T) {
	pairs := []struct {
		name, a, b string
		batch      int
		balance    bool
	}{
		{"ref+ref", "ref", "ref", equivBatch, true},
		{"pocl+pocl", "opencl:0", "opencl:0", equivGPUBatch, false},
		{"lavapipe+lavapipe", "vulkan:0", "vulkan:0", equivGPUBatch, false},
		{"pocl+lavapipe", "opencl:0", "vulkan:0", equivGPUBatch, true},
	}
	for _, pair := range pairs {
		t.Run(pair.name, func(t *testing.T) {
			bs := batches(7, equivSteps, pair.batch)
			a, b := openDevice(t, pair.a), openDevice(t, pair.b)
			ref := trainPlain(t, newPlan(t, a, pair.batch), bs)
			names := []string{pair.a, pair.b}
			two := func() []*graph.Plan { return []*graph.Plan{newPlan(t, a, pair.batch), newPlan(t, b, pair.batch)} }
			equal := trainNew(t, two(), parallel.Options{Names: names, Shares: []float64{1, 1}, ChecksumEvery: 4}, bs)
			requireEquivalent(t, equal, ref, "group of 2 plans, equal shares")

			plans := two()
			for r, got := range trainRanks(t, [][]*graph.Plan{plans[:1], plans[1:]}, bs) {
				requireSameBits(t, got, equal, fmt.Sprintf("rank %d", r))
			}
			if pair.balance {
				balanced := trainNew(t, two(), parallel.Options{Names: names, ChecksumEvery: 4}, bs)
				requireEquivalent(t, balanced, ref, "group of 2 plans, balanced")
			}
		})
	}
}

// TestEquivalentOnTwoRanksOfTwoPlans: four replicas, two per rank.
func TestEquivalentOnTwoRanksOfTwoPlans(t *testing.T) {
	bs := batches(7, equivSteps, equivBatch)
	ref := trainPlain(t, plansOn(t, equivBatch, "ref")[0], bs)
	ranked := trainRanks(t, [][]*graph.Plan{plansOn(t, equivBatch, "ref", "ref"), plansOn(t, equivBatch, "ref", "ref")}, bs)
	requireEquivalent(t, ranked[0], ref, "rank 0 of 2 ranks of 2 plans")
	requireSameBits(t, ranked[1], ranked[0], "rank 1")
}
