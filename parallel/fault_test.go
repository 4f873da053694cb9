package parallel_test

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/parallel"
)

// TestLostDeviceNamesReplica: replica 1's device is lost at step 2 while
// replica 0 (slow) is still computing: the error names replica 1 and the
// step, wraps backend.ErrDeviceLost, and comes back only once replica 0's
// work is done (all its Reads made, none after).
func TestLostDeviceNamesReplica(t *testing.T) {
	slow := &slowDevice{Device: openDevice(t, "ref"), Delay: 5 * time.Millisecond}
	lost := &failingDevice{Device: openDevice(t, "ref"), FailAt: 3}
	plans := []*graph.Plan{newPlan(t, slow, 4), newPlan(t, lost, 4)}
	g, err := parallel.New(plans, parallel.Options{Names: []string{"ref:0", "vulkan:0"}, Shares: []float64{1, 1}})
	require.NoError(t, err)
	bs := batches(2, 2, 8)
	_, err = g.TrainStep(1, bs[0].images, bs[0].labels)
	require.NoError(t, err)
	reads := slow.Reads.Load()
	lost.Armed = true
	_, err = g.TrainStep(2, bs[1].images, bs[1].labels)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "parallel: replica 1 (vulkan:0): step 2: "), err.Error())
	assert.ErrorIs(t, err, backend.ErrDeviceLost)
	assert.NotContains(t, err.Error(), "replica 0")
	done := slow.Reads.Load() - reads
	assert.Equal(t, int64(1+len(plans[0].Params())), done, "replica 0 read its statistics and every gradient before the error came back")
	time.Sleep(30 * time.Millisecond)
	assert.Equal(t, done, slow.Reads.Load()-reads, "nothing ran on after the error")
	assert.Equal(t, 1, plans[0].Step(), "no replica updated at the failed step")
}

// TestChecksumMismatchStopsTraining: a replica whose parameters were
// changed behind the group's back is caught at the next checksum step,
// naming the step and both replicas; across ranks, every rank reports it.
func TestChecksumMismatchStopsTraining(t *testing.T) {
	plans := plansOn(t, 4, "ref", "ref")
	g, err := parallel.New(plans, parallel.Options{Names: []string{"ref:a", "ref:b"}, ChecksumEvery: 2})
	require.NoError(t, err)
	bs := batches(4, 3, 6)
	_, err = g.TrainStep(1, bs[0].images, bs[0].labels)
	require.NoError(t, err)
	require.NoError(t, g.Check())
	perturb(t, plans[1])
	_, err = g.TrainStep(2, bs[1].images, bs[1].labels)
	require.ErrorIs(t, err, parallel.ErrDiverged)
	require.ErrorContains(t, err, "parallel: replicas diverged after step 2 (replica 0 (ref:a) has checksum ")
	require.ErrorContains(t, err, "replica 1 (ref:b) has checksum ")
	require.ErrorIs(t, g.Check(), parallel.ErrDiverged)

	rankPlans := []*graph.Plan{plansOn(t, 4, "ref")[0], plansOn(t, 4, "ref")[0]}
	groups := newRanks(t, [][]*graph.Plan{rankPlans[:1], rankPlans[1:]}, parallel.Options{ChecksumEvery: 3})
	perturb(t, rankPlans[1])
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for r := range 2 {
		wg.Go(func() {
			for s, b := range bs {
				if _, errs[r] = groups[r].TrainStep(s+1, b.images, b.labels); errs[r] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	for r, err := range errs {
		require.ErrorIs(t, err, parallel.ErrDiverged, "rank %d", r)
		require.ErrorContains(t, err, "parallel: replicas diverged after step 3 (rank ")
		require.ErrorContains(t, err, " of 2 has checksum ")
	}
}

// perturb changes one parameter of p.
func perturb(t *testing.T, p *graph.Plan) {
	t.Helper()
	ps, err := p.ReadParams()
	require.NoError(t, err)
	ps[2].Data[7] += 1e-4
	require.NoError(t, p.LoadParams(ps))
}

// TestRanksStartingApartRefused: New compares the ranks' checksums.
func TestRanksStartingApartRefused(t *testing.T) {
	h := newHub(t, 2)
	plans := plansOn(t, 4, "ref", "ref")
	perturb(t, plans[1])
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for r := range 2 {
		wg.Go(func() {
			_, errs[r] = parallel.New(plans[r:r+1], parallel.Options{Reducer: fakeReducer{h, r}})
		})
	}
	wg.Wait()
	for r, err := range errs {
		require.ErrorContains(t, err, "parallel: the ranks start from different parameters (rank ", "rank %d", r)
	}
}

// TestReducerFailureNamed: an allreduce failure is returned with the step.
func TestReducerFailureNamed(t *testing.T) {
	red := &brokenReducer{}
	g, err := parallel.New(plansOn(t, 4, "ref"), parallel.Options{Reducer: red})
	require.NoError(t, err)
	b := batches(1, 1, 4)[0]
	_, err = g.TrainStep(4, b.images, b.labels)
	require.ErrorIs(t, err, errRankGone)
	require.ErrorContains(t, err, "parallel: step 4: summing gradients across ranks: rank 1 is gone")
}

var errRankGone = errors.New("rank 1 is gone")

// brokenReducer is rank 0 of 2 whose partner is gone at the first sum.
type brokenReducer struct{}

func (*brokenReducer) Rank() int                    { return 0 }
func (*brokenReducer) Size() int                    { return 2 }
func (*brokenReducer) AllreduceSum([]float32) error { return errRankGone }
func (*brokenReducer) Agree(uint64) (bool, error)   { return true, nil }

// TestBalancingFavoursTheFastReplica: replica 1 computes 4 times slower;
// the first BalanceSteps steps run equal shares, then the shares follow
// the measured speeds (logged once; about 4:1, at least 65% for the fast
// one where millisecond steps on a busy machine are noisy) and stay; fixed
// shares never change.
func TestBalancingFavoursTheFastReplica(t *testing.T) {
	slow := &slowDevice{Device: openDevice(t, "ref"), Factor: 3}
	plans := []*graph.Plan{newPlan(t, openDevice(t, "ref"), 20), newPlan(t, slow, 20)}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	g, err := parallel.New(plans, parallel.Options{Names: []string{"fast", "slow"}, BalanceSteps: 3, Log: log})
	require.NoError(t, err)
	bs := batches(8, 16, 20)
	steps := 0
	for s, b := range bs {
		if g.Balanced() {
			break
		}
		_, err := g.TrainStep(s+1, b.images, b.labels)
		require.NoError(t, err)
		steps++
		tm := g.LastTiming()
		if s < 3 {
			assert.Equal(t, []int{10, 10}, tm.Images, "step %d runs equal shares", s+1)
		}
		assert.Equal(t, 20, tm.Images[0]+tm.Images[1])
		assert.Positive(t, tm.Reduce)
		assert.Positive(t, tm.Update)
		assert.Zero(t, tm.Allreduce)
		assert.Equal(t, 4*int64(plans[0].GradLen()), tm.Bytes)
		assert.Len(t, tm.Compute, 2)
	}
	require.True(t, g.Balanced(), "balancing ends within 4 rounds of 3 steps")
	assert.LessOrEqual(t, steps, 12)
	sh := g.Shares()
	assert.InDelta(t, 1, sh[0]+sh[1], 1e-12)
	assert.Greater(t, sh[0], 0.65, "the fast replica gets most images: %v", sh)
	_, err = g.TrainStep(steps+1, bs[0].images, bs[0].labels)
	require.NoError(t, err)
	tm := g.LastTiming()
	assert.Greater(t, tm.Images[0], tm.Images[1])
	assert.Equal(t, []int{tm.Images[0], tm.Images[1]}, []int{int(math.Round(20 * sh[0])), int(math.Round(20 * sh[1]))})
	shares := append([]float64(nil), sh...)
	assert.Equal(t, 1, strings.Count(logs.String(), "device shares"), logs.String())
	assert.Contains(t, logs.String(), "names=\"[fast slow]\"")
	assert.Contains(t, logs.String(), "ms_per_image=")
	require.NoError(t, g.Check())
	_, err = g.TrainStep(steps+2, bs[0].images, bs[0].labels)
	require.NoError(t, err)
	assert.Equal(t, shares, g.Shares(), "balanced once")

	fixed, err := parallel.New(plansOn(t, 16, "ref", "ref"), parallel.Options{Shares: []float64{1, 3}, Log: log})
	require.NoError(t, err)
	for s, b := range batches(8, 4, 16) {
		_, err := fixed.TrainStep(s+1, b.images, b.labels)
		require.NoError(t, err)
		assert.Equal(t, []int{4, 12}, fixed.LastTiming().Images)
	}
	assert.Equal(t, []float64{0.25, 0.75}, fixed.Shares())
	assert.Equal(t, 1, strings.Count(logs.String(), "device shares"), "fixed shares are not logged")
}
