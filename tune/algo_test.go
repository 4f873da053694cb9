package tune_test

import (
	"testing"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/layers"
	"github.com/crossgrad/crossgrad/tune"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// algoFake is a fake tile engine on a CPU-type device (so that auto plans
// Winograd scratch) where implicit GEMM's conv2d_fwd takes 10 ms, a gemm 4
// ms, conv2d_bwd_data 2 ms and conv2d_bwd_filter 1 ms: Winograd (whose
// only tiled dispatch is its batched gemm) wins the forward passes,
// implicit GEMM the input and filter gradients.
func algoFake() *fakeTuner {
	f := newFake(fakeConfig{"v=0", fakeTile{ns: 1e6, byKernel: map[backend.Kernel]int64{
		backend.KConv2DFwd: 10e6, backend.KGemm: 4e6, backend.KConv2DBwdData: 2e6, backend.KConv2DBwdFilter: 1e6}}})
	info := f.Device.Info()
	info.Type, info.Name = backend.CPUDevice, "fake cpu"
	f.info = &info
	return f
}

// algoPlan plans two 3x3 stride-1 convolutions (the second with an input
// gradient) and a linear layer on dev at batch 2, 8x8, conv_algo auto.
func algoPlan(t *testing.T, dev backend.Device) *graph.Plan {
	t.Helper()
	return algoPlanWith(t, dev, graph.Config{Seed: 1})
}

// algoPlanWith is algoPlan's model planned with cfg.
func algoPlanWith(t *testing.T, dev backend.Device, cfg graph.Config) *graph.Plan {
	t.Helper()
	m := layers.NewSequential().
		Add("conv", layers.NewConv2d(1, 3, 3, 1, 1), layers.NewReLU(), layers.NewConv2d(3, 4, 3, 1, 1)).
		Add("", layers.NewFlatten()).
		Add("fc", layers.NewLinear(256, 10))
	plan, err := graph.New(dev, m, layers.Shape{2, 1, 8, 8}, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { plan.Close() })
	return plan
}

// TestPrepareChoosesConvAlgo: under tune auto the tuner times both
// algorithms of each pass that admits Winograd, sets the faster and caches
// the choice next to the tile configurations (kernel "conv_algo:" + the
// implicit-GEMM kernel); tune cached on another device of the same
// identity reuses the choices without dispatching anything; tune off keeps
// the rule.
func TestPrepareChoosesConvAlgo(t *testing.T) {
	cache := &tune.Cache{Dir: t.TempDir()}
	f := algoFake()
	defer f.Close()
	plan := algoPlan(t, f)
	rule := []string{"conv.0 forward winograd", "conv.0 backward-filter winograd", "conv.2 forward winograd",
		"conv.2 backward-data winograd", "conv.2 backward-filter winograd"}
	assert.Equal(t, rule, algoNames(plan))
	tgs, err := tune.Targets(plan)
	require.NoError(t, err)
	assert.Contains(t, describeTargets(tgs), "conv.0 forward conv2d_fwd N2 C1 8x8 -> K3 8x8 k3x3 s1 p1", "the other algorithm's dispatches are tuned too")
	assert.Contains(t, describeTargets(tgs), "conv.2 backward conv2d_bwd_data N2 C3 8x8 -> K4 8x8 k3x3 s1 p1")
	assert.Contains(t, describeTargets(tgs), "conv.2 backward conv2d_bwd_filter N2 C3 8x8 -> K4 8x8 k3x3 s1 p1")
	for _, tg := range tgs {
		assert.Equal(t, tg.P.Kernel() != backend.KGemm, tg.Alternative, "%s: only the implicit-GEMM dispatches are alternatives here", describeTargets([]tune.Target{tg}))
	}

	_, err = tune.Prepare(f, plan, tune.Auto, tune.Options{Cache: cache, Budget: 20 * time.Second})
	require.NoError(t, err)
	tuned := []string{"conv.0 forward winograd", "conv.0 backward-filter gemm", "conv.2 forward winograd",
		"conv.2 backward-data gemm", "conv.2 backward-filter gemm"}
	assert.Equal(t, tuned, algoNames(plan))
	assert.Equal(t, "conv.2 backward-data gemm (tuned: winograd 4 ms, gemm 2 ms)", plan.ConvAlgos()[3].String())
	assert.Equal(t, "conv.2 backward-filter gemm (tuned: winograd 4 ms, gemm 1 ms)", plan.ConvAlgos()[4].String())
	entries, err := cache.Load(f)
	require.NoError(t, err)
	e, ok := entries[backend.TuneKey{Kernel: "conv_algo:conv2d_fwd", Shape: "N2 C1 8x8 -> K3 8x8 k3x3 s1 p1"}]
	require.True(t, ok, "the choice is cached under conv_algo:conv2d_fwd: %v", entries)
	assert.Equal(t, graph.ConvWinograd, e.Algo)
	assert.InDelta(t, 4.0, e.Ms, 1e-9)
	assert.InDelta(t, 10.0, e.DefaultMs, 1e-9)
	_, ok = entries[backend.TuneKey{Kernel: backend.KConv2DFwd, Shape: "N2 C1 8x8 -> K3 8x8 k3x3 s1 p1"}]
	assert.True(t, ok, "the tile configuration keeps its own entry")
	e, ok = entries[backend.TuneKey{Kernel: "conv_algo:conv2d_bwd_filter", Shape: "N2 C3 8x8 -> K4 8x8 k3x3 s1 p1"}]
	require.True(t, ok, "the filter gradient's choice is cached under conv_algo:conv2d_bwd_filter")
	assert.Equal(t, graph.ConvGemm, e.Algo)

	g := algoFake()
	defer g.Close()
	again := algoPlan(t, g)
	_, err = tune.Prepare(g, again, tune.Cached, tune.Options{Cache: cache})
	require.NoError(t, err)
	assert.Equal(t, tuned, algoNames(again))
	assert.Equal(t, "conv.0 forward winograd (cached: winograd 4 ms, gemm 10 ms)", again.ConvAlgos()[0].String())
	assert.Empty(t, g.calls, "cached mode dispatches nothing")

	h := algoFake()
	defer h.Close()
	off := algoPlan(t, h)
	_, err = tune.Prepare(h, off, tune.Off, tune.Options{Cache: cache})
	require.NoError(t, err)
	assert.Equal(t, rule, algoNames(off))
}

// TestAlgoEntryErrors: an algorithm choice of another kernel or with an
// unknown algorithm does not decode.
func TestAlgoEntryErrors(t *testing.T) {
	p := backend.Conv2DFwd{Conv2DShape: backend.NewConv2DShape(2, 1, 8, 8, 3, 3, 3, 1, 1)}
	raw := `{"N":2}`
	_, err := tune.Entry{Kernel: "conv_algo:gemm", Shape: "x", Params: []byte(raw), Algo: "winograd"}.Dispatch()
	assert.ErrorContains(t, err, "the algorithm choice is for conv2d_fwd, conv2d_bwd_data and conv2d_bwd_filter only")
	_, err = tune.Entry{Kernel: tune.AlgoKey(p).Kernel, Shape: p.Shape(), Params: []byte(raw), Algo: "fft"}.Dispatch()
	assert.ErrorContains(t, err, `algorithm "fft" (want gemm, winograd or winograd4)`)
	assert.Equal(t, backend.TuneKey{Kernel: "conv_algo:conv2d_fwd", Shape: p.Shape()}, tune.AlgoKey(p))
}

func algoNames(p *graph.Plan) []string {
	var out []string
	for _, c := range p.ConvAlgos() {
		out = append(out, c.Name+" "+c.Pass+" "+c.Algo)
	}
	return out
}

// TestChooseAlgosWinograd4: where F(4x4,3x3)'s batched gemm (36 products)
// beats F(2x2,3x3)'s (16) and implicit GEMM, the tuner times all three
// algorithms of the 3x3 passes, chooses winograd4 (F(3x3,4x4) for the
// filter gradients), caches it, and a cached plan runs F(4x4,3x3)'s
// dispatches; tune off keeps the rule.
func TestChooseAlgosWinograd4(t *testing.T) {
	fake := func() *fakeTuner {
		f := newFake(fakeConfig{"v=0", fakeTile{byN: map[uint32]int64{16: 4e6, 36: 5e5}, byKernel: map[backend.Kernel]int64{
			backend.KConv2DFwd: 10e6, backend.KConv2DBwdData: 2e6, backend.KConv2DBwdFilter: 1e6}}})
		info := f.Device.Info()
		info.Type, info.Name = backend.CPUDevice, "fake cpu"
		f.info = &info
		return f
	}
	cache := &tune.Cache{Dir: t.TempDir()}
	tuning := graph.Config{Seed: 1, TunedAlgos: true} // as train plans with tune auto or cached
	f := fake()
	defer f.Close()
	plan := algoPlanWith(t, f, tuning)
	tgs, err := tune.Targets(plan)
	require.NoError(t, err)
	assert.Contains(t, describeTargets(tgs), "conv.0 forward gemm M3 N8 K1 b=36", "F(4x4,3x3)'s gemm is tuned as an alternative")
	_, err = tune.Prepare(f, plan, tune.Auto, tune.Options{Cache: cache, Budget: 20 * time.Second})
	require.NoError(t, err)
	want := []string{"conv.0 forward winograd4", "conv.0 backward-filter winograd4", "conv.2 forward winograd4",
		"conv.2 backward-data winograd4", "conv.2 backward-filter winograd4"}
	assert.Equal(t, want, algoNames(plan))
	assert.Equal(t, "conv.2 backward-data winograd4 (tuned: winograd 4 ms, gemm 2 ms, winograd4 0.5 ms)", plan.ConvAlgos()[3].String())
	entries, err := cache.Load(f)
	require.NoError(t, err)
	e, ok := entries[backend.TuneKey{Kernel: "conv_algo:conv2d_bwd_data", Shape: "N2 C3 8x8 -> K4 8x8 k3x3 s1 p1"}]
	require.True(t, ok)
	assert.Equal(t, graph.ConvWinograd4, e.Algo)
	assert.InDelta(t, 0.5, e.Ms, 1e-9)

	g := fake()
	defer g.Close()
	again := algoPlanWith(t, g, tuning)
	_, err = tune.Prepare(g, again, tune.Cached, tune.Options{Cache: cache})
	require.NoError(t, err)
	assert.Equal(t, want, algoNames(again))
	parts, err := again.TrainStepParts(1, 2)
	require.NoError(t, err)
	inputs, dys := 0, 0
	for _, part := range parts {
		for _, d := range part.Dispatches {
			var f4 uint32
			switch q := d.P.(type) {
			case backend.WinogradInput:
				f4, inputs = q.F4, inputs+1
			case backend.WinogradDy:
				f4, dys = q.F4, dys+1
			default:
				continue
			}
			assert.Equal(t, uint32(1), f4, "%s %s", part.Layer, d.P.Shape())
		}
	}
	assert.Equal(t, 5, inputs, "the five winograd4 passes transform their inputs as F(4x4,3x3)")
	assert.Equal(t, 2, dys, "the filter gradients transform dy as F(3x3,4x4)")

	h := fake()
	defer h.Close()
	off := algoPlanWith(t, h, graph.Config{Seed: 1})
	_, err = tune.Prepare(h, off, tune.Off, tune.Options{Cache: cache})
	require.NoError(t, err)
	for _, c := range off.ConvAlgos() {
		assert.NotEqual(t, graph.ConvWinograd4, c.Algo, c.String())
	}
}
