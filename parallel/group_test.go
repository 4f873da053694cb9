package parallel_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/alexnet"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/crossgrad/crossgrad/parallel"
)

// TestOnePlanIsThePlainStep: one replica without a Reducer is the plan's
// own step, bit for bit, with one Read (the statistics) per step and no
// gradient crossing to the host.
func TestOnePlanIsThePlainStep(t *testing.T) {
	bs := batches(3, 3, 5)
	ref := trainPlain(t, plansOn(t, 5, "ref")[0], bs)
	dev := &testutil.CountingDevice{Device: openDevice(t, "ref")}
	p := newPlan(t, dev, 5)
	g, err := parallel.New([]*graph.Plan{p}, parallel.Options{Names: []string{"ref"}, ChecksumEvery: 1})
	require.NoError(t, err)
	dev.Reads, dev.Writes = 0, 0
	var losses []float32
	for s, b := range bs {
		st, err := g.TrainStep(s+1, b.images, b.labels)
		require.NoError(t, err)
		assert.Equal(t, 5, st.N)
		losses = append(losses, st.Loss)
	}
	assert.Equal(t, 3, dev.Reads, "one statistics Read per step")
	assert.Equal(t, 6, dev.Writes, "images and labels per step")
	assert.Equal(t, ref.losses, losses)
	ps, err := p.ReadParams()
	require.NoError(t, err)
	for i := range ps {
		require.Equal(t, ref.params[0][i].Data, ps[i].Data, ps[i].Name)
	}
	tm := g.LastTiming()
	assert.Equal(t, []int{5}, tm.Images)
	assert.Positive(t, tm.Compute[0])
	assert.Zero(t, tm.Bytes, "no gradient read")
	assert.Equal(t, []float64{1}, g.Shares())
	assert.Equal(t, []*graph.Plan{p}, g.Plans())

	ev, err := g.Eval(bs[0].images, bs[0].labels)
	require.NoError(t, err)
	require.NoError(t, p.UploadPacked(bs[0].images, bs[0].labels))
	want, err := p.EvalStep(5)
	require.NoError(t, err)
	assert.Equal(t, want, ev)
}

// TestReplicaWithNoImages: a global batch of 1 image on two replicas
// leaves replica 0 without images (ties go to the later replica); it
// computes nothing, contributes zero and still applies the update, and the
// result is the one-plan step bit for bit. Two ranks of two replicas on 3
// images give rank 0's first replica nothing too.
func TestReplicaWithNoImages(t *testing.T) {
	bs := batches(5, 3, 1)
	ref := trainPlain(t, plansOn(t, 1, "ref")[0], bs)
	plans := plansOn(t, 1, "ref", "ref")
	g, err := parallel.New(plans, parallel.Options{Shares: []float64{1, 1}})
	require.NoError(t, err)
	var losses []float32
	for s, b := range bs {
		st, err := g.TrainStep(s+1, b.images, b.labels)
		require.NoError(t, err)
		losses = append(losses, st.Loss)
		assert.Equal(t, []int{0, 1}, g.LastTiming().Images)
	}
	assert.Equal(t, ref.losses, losses)
	require.NoError(t, g.Check())
	for _, p := range plans {
		ps, err := p.ReadParams()
		require.NoError(t, err)
		for i := range ps {
			require.Equal(t, ref.params[0][i].Data, ps[i].Data, ps[i].Name)
		}
	}

	bs3 := batches(6, 2, 3)
	ref3 := trainPlain(t, plansOn(t, 3, "ref")[0], bs3)
	ranked := trainRanks(t, [][]*graph.Plan{plansOn(t, 1, "ref", "ref"), plansOn(t, 1, "ref", "ref")}, bs3)
	requireEquivalent(t, ranked[0], ref3, "2 ranks of 2 replicas on 3 images")
	requireSameBits(t, ranked[1], ranked[0], "rank 1")
}

// TestEvalShardedAndSummed: evaluation over two replicas and two ranks
// returns the one-plan loss and correct count of the whole batch.
func TestEvalShardedAndSummed(t *testing.T) {
	b := batches(9, 1, 11)[0]
	p := plansOn(t, 11, "ref")[0]
	require.NoError(t, p.UploadPacked(b.images, b.labels))
	want, err := p.EvalStep(11)
	require.NoError(t, err)

	g, err := parallel.New(plansOn(t, 11, "ref", "ref"), parallel.Options{})
	require.NoError(t, err)
	got, err := g.Eval(b.images, b.labels)
	require.NoError(t, err)
	assert.Equal(t, want.Correct, got.Correct)
	assert.Equal(t, 11, got.N)
	assert.InDelta(t, want.Loss, got.Loss, 1e-6*float64(want.Loss))

	groups := newRanks(t, [][]*graph.Plan{plansOn(t, 11, "ref"), plansOn(t, 11, "ref")}, parallel.Options{})
	res := make([]graph.Stats, 2)
	onRanks(t, groups, func(r int, g *parallel.Group) error {
		var err error
		res[r], err = g.Eval(b.images, b.labels)
		return err
	})
	assert.Equal(t, res[0], res[1], "the same statistics on every rank")
	assert.Equal(t, want.Correct, res[0].Correct)
	assert.InDelta(t, want.Loss, res[0].Loss, 1e-6*float64(want.Loss))
}

// TestNewRefusesBadInput: every bad argument is an error naming it.
func TestNewRefusesBadInput(t *testing.T) {
	plans := plansOn(t, 4, "ref", "ref")
	cases := []struct {
		name  string
		plans []*graph.Plan
		o     parallel.Options
		want  string
	}{
		{"no plans", nil, parallel.Options{}, "no plans"},
		{"nil plan", []*graph.Plan{plans[0], nil}, parallel.Options{}, "plan 1 is nil"},
		{"names", plans, parallel.Options{Names: []string{"a"}}, "1 names for 2 plans"},
		{"shares length", plans, parallel.Options{Shares: []float64{1}}, "1 shares for 2 plans"},
		{"zero share", plans, parallel.Options{Shares: []float64{1, 0}}, "share 1 is 0"},
		{"NaN share", plans, parallel.Options{Shares: []float64{math.NaN(), 1}}, "share 0 is NaN"},
		{"infinite share", plans, parallel.Options{Shares: []float64{1, math.Inf(1)}}, "share 1 is +Inf"},
		{"balance steps", plans, parallel.Options{BalanceSteps: -1}, "BalanceSteps -1"},
		{"checksum every", plans, parallel.Options{ChecksumEvery: -2}, "ChecksumEvery -2"},
		{"same plan twice", []*graph.Plan{plans[0], plans[0]}, parallel.Options{Names: []string{"a", "b"}},
			"replica 0 (a) and replica 1 (b) are planned on the same device"},
	}
	for _, c := range cases {
		_, err := parallel.New(c.plans, c.o)
		require.ErrorContains(t, err, c.want, c.name)
	}

	wide := alexnet.DefaultOptions()
	wide.InputSize, wide.Width = 65, 2*tinyWidth
	m, err := alexnet.New(wide)
	require.NoError(t, err)
	other, err := graph.New(openDevice(t, "ref"), m.Sequential, m.InputShape(4), graph.Config{Seed: 1})
	require.NoError(t, err)
	defer other.Close()
	_, err = parallel.New([]*graph.Plan{plans[0], other}, parallel.Options{})
	require.ErrorContains(t, err, "replica 1 has ")
	require.ErrorContains(t, err, "plan the same model on every replica")

	ps, err := plans[1].ReadParams()
	require.NoError(t, err)
	ps[3].Data[0] += 1e-3
	require.NoError(t, plans[1].LoadParams(ps))
	_, err = parallel.New(plans, parallel.Options{Names: []string{"ref:a", "ref:b"}})
	require.ErrorContains(t, err, "the replicas start from different parameters")
	require.ErrorContains(t, err, "replica 1 (ref:b) has checksum")
}

// TestTrainStepRefusesBadBatches: bad global batches are errors.
func TestTrainStepRefusesBadBatches(t *testing.T) {
	g, err := parallel.New(plansOn(t, 4, "ref", "ref"), parallel.Options{Names: []string{"ref:a", "ref:b"}})
	require.NoError(t, err)
	b := batches(1, 1, 10)[0]
	_, err = g.TrainStep(1, b.images[:5], b.labels[:4])
	require.ErrorContains(t, err, "5 packed image words do not divide into 4 images")
	_, err = g.TrainStep(1, nil, nil)
	require.ErrorContains(t, err, "an empty batch")
	_, err = g.TrainStep(0, b.images[:4*196], b.labels[:4])
	require.ErrorContains(t, err, "step 0: steps count from 1")
	_, err = g.TrainStep(1, b.images, b.labels)
	require.ErrorContains(t, err, "parallel: replica 0 (ref:a): step 1: graph: upload of 5 images, the plan takes 1 to 4")
	require.ErrorContains(t, err, "parallel: replica 1 (ref:b): step 1: graph: upload of 5 images")
	_, err = g.Eval(b.images, b.labels)
	require.ErrorContains(t, err, "parallel: replica 0 (ref:a): evaluation: graph: upload of 5 images")
}
