package tune_test

import (
	"testing"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/crossgrad/crossgrad/layers"
	"github.com/crossgrad/crossgrad/tune"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallPlan plans, on the reference device, a convolution and three linear
// layers (the last two of the same shape) at batch 2 on 8x8 inputs.
func smallPlan(t *testing.T) *graph.Plan {
	t.Helper()
	return smallPlanOn(t, ref.New())
}

// smallPlanOn is smallPlan on dev, which it closes at the test's end.
func smallPlanOn(t *testing.T, dev backend.Device) *graph.Plan {
	t.Helper()
	m := layers.NewSequential().
		Add("conv", layers.NewConv2d(1, 3, 3, 1, 1)).
		Add("", layers.NewReLU(), layers.NewFlatten()).
		Add("fc", layers.NewLinear(192, 16), layers.NewReLU(), layers.NewLinear(16, 16), layers.NewReLU(), layers.NewLinear(16, 16))
	t.Cleanup(func() { dev.Close() })
	plan, err := graph.New(dev, m, layers.Shape{2, 1, 8, 8}, graph.Config{Seed: 1})
	require.NoError(t, err)
	t.Cleanup(func() { plan.Close() })
	return plan
}

// smallPlanTargets are the targets of smallPlan, as "layer phase kernel shape".
var smallPlanTargets = []string{
	"conv.0 forward conv2d_fwd N2 C1 8x8 -> K3 8x8 k3x3 s1 p1",
	"fc.0 forward gemm M2 N16 K192 B^T",
	"fc.2 forward gemm M2 N16 K16 B^T",
	"fc.4 backward gemm M2 N16 K16",
	"fc.4 backward gemm M16 N16 K2 A^T",
	"fc.0 backward gemm M2 N192 K16",
	"fc.0 backward gemm M16 N192 K2 A^T",
	"conv.0 backward conv2d_bwd_filter N2 C1 8x8 -> K3 8x8 k3x3 s1 p1",
}

func describeTargets(tgs []tune.Target) []string {
	var out []string
	for _, tg := range tgs {
		out = append(out, tg.Layer+" "+tg.Phase+" "+backend.KeyOf(tg.P).String())
	}
	return out
}

// TestTargets lists each tiled dispatch of a training step once, named by
// the first layer and phase that makes it, in step order.
func TestTargets(t *testing.T) {
	dev := &testutil.CountingDevice{Device: ref.New()}
	plan := smallPlanOn(t, dev)
	*dev = testutil.CountingDevice{Device: dev.Device}
	tgs, err := tune.Targets(plan)
	require.NoError(t, err)
	assert.Equal(t, smallPlanTargets, describeTargets(tgs))
	assert.Equal(t, testutil.CountingDevice{Device: dev.Device}, *dev, "listing the targets touches no buffer")
	assert.Equal(t, 0, plan.Step(), "listing the targets runs no step")
	_, err = tune.Targets(nil)
	assert.ErrorContains(t, err, "no training plan")
}

// TestPrepareOff: off sets nothing and reports the defaults.
func TestPrepareOff(t *testing.T) {
	plan := smallPlan(t)
	f := standardFake()
	defer f.Close()
	res, err := tune.Prepare(f, plan, tune.Off, tune.Options{Cache: &tune.Cache{Dir: t.TempDir()}})
	require.NoError(t, err)
	require.Len(t, res, len(smallPlanTargets))
	for _, r := range res {
		assert.Equal(t, tune.FromDefault, r.Source)
		assert.Equal(t, backend.TileConfig("v=0"), r.Chosen)
		assert.Equal(t, r.Default, r.Chosen)
		assert.Equal(t, 1.0, r.Speedup())
	}
	assert.Empty(t, f.set)
	assert.Empty(t, f.calls)
}

// TestPrepareNotATuner: the reference device gets no results, no error.
func TestPrepareNotATuner(t *testing.T) {
	plan := smallPlan(t)
	res, err := tune.Prepare(plan.Device(), plan, tune.Auto, tune.Options{})
	assert.NoError(t, err)
	assert.Nil(t, res)
}

// TestPrepareUnknownMode names the mode.
func TestPrepareUnknownMode(t *testing.T) {
	plan := smallPlan(t)
	f := standardFake()
	defer f.Close()
	_, err := tune.Prepare(f, plan, tune.Mode("fast"), tune.Options{})
	assert.ErrorContains(t, err, `"fast"`)
}

// TestPrepareAutoThenCached: auto tunes every target and stores them; a
// second device with the same identity in cached mode sets them all
// without dispatching anything.
func TestPrepareAutoThenCached(t *testing.T) {
	plan := smallPlan(t)
	cache := &tune.Cache{Dir: t.TempDir()}
	f := newFake(fakeConfig{"v=0", fakeTile{ns: 10e6}}, fakeConfig{"v=1", fakeTile{ns: 5e6}})
	defer f.Close()
	res, err := tune.Prepare(f, plan, tune.Auto, tune.Options{Cache: cache, Budget: 30 * time.Second})
	require.NoError(t, err)
	require.Len(t, res, len(smallPlanTargets))
	for _, r := range res {
		assert.Equal(t, tune.FromTuning, r.Source, backend.KeyOf(r.P))
		assert.Equal(t, backend.TileConfig("v=1"), f.tileSet(backend.KeyOf(r.P)))
	}

	g := newFake(fakeConfig{"v=0", fakeTile{ns: 10e6}}, fakeConfig{"v=1", fakeTile{ns: 5e6}})
	defer g.Close()
	res, err = tune.Prepare(g, plan, tune.Cached, tune.Options{Cache: cache})
	require.NoError(t, err)
	assert.Equal(t, smallPlanTargets, describeTargets(targetsOf(res)))
	for _, r := range res {
		assert.Equal(t, tune.FromCache, r.Source)
		assert.Equal(t, backend.TileConfig("v=1"), r.Chosen)
		assert.InDelta(t, 2.0, r.Speedup(), 1e-9)
		assert.Equal(t, backend.TileConfig("v=1"), g.tileSet(backend.KeyOf(r.P)))
	}
	assert.Empty(t, g.calls, "cached mode dispatches nothing")
}

func targetsOf(res []tune.Result) []tune.Target {
	out := make([]tune.Target, len(res))
	for i, r := range res {
		out[i] = r.Target
	}
	return out
}
