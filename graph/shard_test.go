package graph_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/crossgrad/crossgrad/layers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shardPlans returns k plans of the tiny AlexNet (dropout 0.5) on one
// reference device, each planned for batch images, with equal parameters.
func shardPlans(t *testing.T, k, batch int) []*graph.Plan {
	t.Helper()
	m := tinyAlexNet(t, 0.5)
	dev := ref.New()
	t.Cleanup(func() { dev.Close() })
	var plans []*graph.Plan
	for range k {
		p, err := graph.New(dev, m.Sequential, m.InputShape(batch), graph.Config{Seed: 21})
		require.NoError(t, err)
		t.Cleanup(func() { p.Close() })
		plans = append(plans, p)
	}
	return plans
}

func readGrads(t *testing.T, p *graph.Plan) []float32 {
	t.Helper()
	g := make([]float32, p.GradLen())
	require.NoError(t, p.ReadGrads(g))
	return g
}

// TestTrainShardThenUpdateIsTrainStep: the shard {0, n, n} followed by
// Update is TrainStep bit for bit (statistics, parameters, Adam moments,
// Step), over two steps.
func TestTrainShardThenUpdateIsTrainStep(t *testing.T) {
	plans := shardPlans(t, 2, 4)
	whole, sharded := plans[0], plans[1]
	r := testutil.NewRNG(3)
	for step := 1; step <= 2; step++ {
		img, lab := randomBatch(r, 3)
		require.NoError(t, whole.Upload(img, lab))
		require.NoError(t, sharded.Upload(img, lab))
		want, err := whole.TrainStep(step, 3)
		require.NoError(t, err)
		got, err := sharded.TrainShard(step, graph.Shard{Offset: 0, N: 3, Global: 3})
		require.NoError(t, err)
		assert.Equal(t, want, got)
		assert.Equal(t, step-1, sharded.Step(), "TrainShard does not advance Step")
		require.NoError(t, sharded.Update(step))
		assert.Equal(t, step, sharded.Step())
	}
	pw, err := whole.ReadParams()
	require.NoError(t, err)
	ps, err := sharded.ReadParams()
	require.NoError(t, err)
	assert.Equal(t, pw, ps)
	aw, err := whole.ReadAdam()
	require.NoError(t, err)
	as, err := sharded.ReadAdam()
	require.NoError(t, err)
	assert.Equal(t, aw, as)
	cw, err := whole.Checksum()
	require.NoError(t, err)
	cs, err := sharded.Checksum()
	require.NoError(t, err)
	assert.Equal(t, cw, cs)
}

// trainShards trains step on the same random global batch of B images:
// on whole as one shard, on p0 as images [0, a) and on p1 as [a, B); it
// returns the three statistics and gradients.
func trainShards(t *testing.T, whole, p0, p1 *graph.Plan, B, a, step int) (sw, s0, s1 graph.Stats, want, g0, g1 []float32) {
	t.Helper()
	img, lab := randomBatch(testutil.NewRNG(17), B)
	require.NoError(t, whole.Upload(img, lab))
	require.NoError(t, p0.Upload(img[:a*784], lab[:a]))
	require.NoError(t, p1.Upload(img[a*784:], lab[a:]))
	var err error
	sw, err = whole.TrainShard(step, graph.Shard{Offset: 0, N: B, Global: B})
	require.NoError(t, err)
	s0, err = p0.TrainShard(step, graph.Shard{Offset: 0, N: a, Global: B})
	require.NoError(t, err)
	s1, err = p1.TrainShard(step, graph.Shard{Offset: a, N: B - a, Global: B})
	require.NoError(t, err)
	return sw, s0, s1, readGrads(t, whole), readGrads(t, p0), readGrads(t, p1)
}

// TestShardGradientsMakeTheWholeBatch: with dropout active, the gradients of
// shards {0, a, B} and {a, B-a, B} on two plans, weighted a/B and (B-a)/B,
// are the gradient of the whole batch on one plan within
// |got-want| <= 1e-6 + 1e-4*|want| (float32 sums in another order); the
// shard statistics combine to the whole batch's. Keying the second shard's
// masks at offset 0 instead breaks the equality.
func TestShardGradientsMakeTheWholeBatch(t *testing.T) {
	const B, a, step = 5, 2, 4
	plans := shardPlans(t, 3, B)
	whole, p0, p1 := plans[0], plans[1], plans[2]
	sw, s0, s1, want, g0, g1 := trainShards(t, whole, p0, p1, B, a, step)

	combine := func(g0, g1 []float32) []float32 {
		out := make([]float32, len(g0))
		for i := range out {
			out[i] = float32(a)/B*g0[i] + float32(B-a)/B*g1[i]
		}
		return out
	}
	testutil.RequireClose(t, combine(g0, g1), testutil.To64(want), 1e-6, 1e-4, "combined shard gradients")
	assert.Equal(t, sw.Correct, s0.Correct+s1.Correct)
	assert.Equal(t, [2]int{a, B - a}, [2]int{s0.N, s1.N})
	assert.InDelta(t, float64(sw.Loss), (a*float64(s0.Loss)+(B-a)*float64(s1.Loss))/B, 1e-5)

	_, err := p1.TrainShard(step, graph.Shard{Offset: 0, N: B - a, Global: B - a})
	require.NoError(t, err)
	local := combine(g0, readGrads(t, p1))
	worst := 0.0
	for i, w := range want {
		worst = math.Max(worst, math.Abs(float64(local[i]-w))-1e-4*math.Abs(float64(w)))
	}
	assert.Greater(t, worst, 1e-3, "masks keyed by the local index should change the gradient")
}

// TestReadWriteGrads: GradLen is the sum of the gradients' sizes; WriteGrads
// then ReadGrads returns the values, laid out in Params order (as Grads
// reads them); wrong lengths are refused.
func TestReadWriteGrads(t *testing.T) {
	p := shardPlans(t, 1, 2)[0]
	grads := p.Grads()
	n := 0
	for _, g := range grads {
		n += layers.Shape(g.Shape).Elems()
	}
	require.Equal(t, n, p.GradLen())
	src := testutil.RandSlice(testutil.NewRNG(9), n)
	require.NoError(t, p.WriteGrads(src))
	assert.Equal(t, src, readGrads(t, p))
	host, err := p.ReadTensors(grads)
	require.NoError(t, err)
	off := 0
	for _, h := range host {
		require.Equal(t, src[off:off+len(h.Data)], h.Data, h.Name)
		off += len(h.Data)
	}
	require.ErrorContains(t, p.WriteGrads(src[1:]), fmt.Sprintf("WriteGrads of %d values, the plan's gradients hold GradLen() = %d", n-1, n))
	require.ErrorContains(t, p.ReadGrads(make([]float32, n+1)), "ReadGrads of")
}

// TestChecksum: equal plans have equal checksums; a training step on one
// changes its checksum, the same step on the other makes them equal again;
// a change of one Adam moment alone changes it.
func TestChecksum(t *testing.T) {
	plans := shardPlans(t, 2, 2)
	sum := func(p *graph.Plan) uint64 {
		c, err := p.Checksum()
		require.NoError(t, err)
		return c
	}
	start := sum(plans[0])
	assert.Equal(t, start, sum(plans[1]))
	img, lab := randomBatch(testutil.NewRNG(1), 2)
	for i, p := range plans {
		require.NoError(t, p.Upload(img, lab))
		_, err := p.TrainStep(1, 2)
		require.NoError(t, err)
		if i == 0 {
			assert.NotEqual(t, sum(plans[0]), sum(plans[1]))
		}
	}
	trained := sum(plans[0])
	assert.NotEqual(t, start, trained)
	assert.Equal(t, trained, sum(plans[1]))

	adam, err := plans[1].ReadAdam()
	require.NoError(t, err)
	last := adam.V[len(adam.V)-1].Data
	last[0] = math.Nextafter32(last[0], 1)
	require.NoError(t, plans[1].LoadAdam(adam))
	assert.NotEqual(t, trained, sum(plans[1]))
}

// TestShardBadInput: shards, steps and plans that cannot run are errors
// naming the problem, never panics, and leave Step alone.
func TestShardBadInput(t *testing.T) {
	p := shardPlans(t, 1, 3)[0]
	img, lab := randomBatch(testutil.NewRNG(2), 3)
	require.NoError(t, p.Upload(img, lab))
	for _, c := range []struct {
		s    graph.Shard
		want string
	}{
		{graph.Shard{Offset: 0, N: 0, Global: 3}, "N must be at least 1"},
		{graph.Shard{Offset: -1, N: 2, Global: 3}, "need 0 <= Offset and Offset+N <= Global"},
		{graph.Shard{Offset: 2, N: 2, Global: 3}, "need 0 <= Offset and Offset+N <= Global"},
		{graph.Shard{Offset: 0, N: 1, Global: 0}, "Global must be in [1, 2^32)"},
		{graph.Shard{Offset: 0, N: 4, Global: 8}, "N exceeds the plan's batch of 3 images"},
		{graph.Shard{Offset: math.MaxInt - 1, N: 2, Global: math.MaxInt}, "Global must be in [1, 2^32)"},
	} {
		_, err := p.TrainShard(1, c.s)
		require.ErrorContains(t, err, c.want, "%+v", c.s)
	}
	_, err := p.TrainShard(0, graph.Shard{N: 1, Global: 1})
	require.ErrorContains(t, err, "training step 0 must be in [1, 2^32)")
	require.ErrorContains(t, p.Update(0), "training step 0 must be in [1, 2^32)")
	assert.Equal(t, 0, p.Step())
	require.NoError(t, p.Close())
	_, err = p.TrainShard(1, graph.Shard{N: 1, Global: 1})
	require.ErrorContains(t, err, "plan is closed")
	require.ErrorContains(t, p.Update(1), "plan is closed")
	require.ErrorContains(t, p.ReadGrads(nil), "plan is closed")
	require.ErrorContains(t, p.WriteGrads(nil), "plan is closed")
	_, err = p.Checksum()
	require.ErrorContains(t, err, "plan is closed")
}

// TestWinogradShardGradients: with conv_algo winograd (the 3x3 layers'
// forward, input gradient and filter gradient as Winograd), the gradients
// of shards {0, 2, 5} and {2, 3, 5} on PoCL and lavapipe, weighted 2/5
// and 3/5, are the whole batch's within |got-want| <= 1e-7 + 1e-4*|want|
// (measured: 1.3e-8 at most): the split changes only the order of the
// filter gradient's sum over tiles.
func TestWinogradShardGradients(t *testing.T) {
	const B, a, step = 5, 2, 3
	for _, name := range []string{"opencl", "vulkan"} {
		t.Run(name, func(t *testing.T) {
			dev := backendtest.OpenOrSkip(t, func() (backend.Device, error) { return backend.Open(name) })
			defer dev.Close()
			m := tinyAlexNet(t, 0.5)
			plan := func() *graph.Plan {
				p, err := graph.New(dev, m.Sequential, m.InputShape(B), graph.Config{Seed: 21, ConvAlgo: graph.ConvWinograd})
				require.NoError(t, err)
				t.Cleanup(func() { p.Close() })
				return p
			}
			whole, p0, p1 := plan(), plan(), plan()
			require.Equal(t, 1, kernelCount(t, whole, backend.KWinogradDw, "conv.8"))
			_, _, _, want, g0, g1 := trainShards(t, whole, p0, p1, B, a, step)
			got := make([]float32, len(want))
			for i := range got {
				got[i] = float32(a)/B*g0[i] + float32(B-a)/B*g1[i]
			}
			testutil.RequireClose(t, got, testutil.To64(want), 1e-7, 1e-4, "combined shard gradients")
		})
	}
}
