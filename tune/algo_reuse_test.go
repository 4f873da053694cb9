package tune_test

import (
	"testing"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/tune"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// twoTileAlgoFake is algoFake with a second configuration as fast as the
// default, so that Tune times every target at the real shape; gemmNs is a
// gemm's device time.
func twoTileAlgoFake(gemmNs int64) *fakeTuner {
	times := map[backend.Kernel]int64{backend.KConv2DFwd: 10e6, backend.KGemm: gemmNs,
		backend.KConv2DBwdData: 2e6, backend.KConv2DBwdFilter: 1e6}
	f := newFake(fakeConfig{"v=0", fakeTile{byKernel: times}}, fakeConfig{"v=1", fakeTile{byKernel: times}})
	info := f.Device.Info()
	info.Type, info.Name = backend.CPUDevice, "fake cpu"
	f.info = &info
	return f
}

// tunedAlgoPlan is algoPlan on f with every target tuned.
func tunedAlgoPlan(t *testing.T, f *fakeTuner) (*graph.Plan, []tune.Result) {
	t.Helper()
	plan := algoPlan(t, f)
	tgs, err := tune.Targets(plan)
	require.NoError(t, err)
	res, err := tune.Tune(f, tgs, tune.Options{Budget: 20 * time.Second})
	require.NoError(t, err)
	return plan, res
}

// implicitCalls counts the implicit-GEMM convolutions f ran since from
// calls, and the gemms.
func implicitCalls(f *fakeTuner, from int) (conv, gemm int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.calls[from:] {
		if c.key.Kernel == backend.KGemm {
			gemm++
		} else {
			conv++
		}
	}
	return conv, gemm
}

// TestChooseAlgosReusesTunedTimes: after Tune timed every implicit-GEMM
// dispatch at the real shape, ChooseAlgos times only the Winograd side and
// makes the same choices as when it times both (tuned results nil).
func TestChooseAlgosReusesTunedTimes(t *testing.T) {
	want := []string{"conv.0 forward winograd", "conv.0 backward-filter gemm", "conv.2 forward winograd",
		"conv.2 backward-data gemm", "conv.2 backward-filter gemm"}
	for _, reuse := range []bool{true, false} {
		f := twoTileAlgoFake(4e6)
		plan, res := tunedAlgoPlan(t, f)
		from := len(f.calls)
		var tuned []tune.Result
		if reuse {
			tuned = res
		}
		choices, err := tune.ChooseAlgos(f, plan, tuned, tune.Options{})
		require.NoError(t, err)
		assert.Equal(t, want, algoNames(plan), "reuse %v", reuse)
		require.Len(t, choices, 5)
		assert.InDelta(t, 2.0, choices[3].GemmMs, 1e-9, "conv.2 backward-data's implicit GEMM time")
		conv, _ := implicitCalls(f, from)
		if reuse {
			assert.Zero(t, conv, "no implicit-GEMM dispatch is timed again")
		} else {
			assert.Equal(t, 5*4, conv, "each of 5 passes: a warm-up and 3 runs")
		}
		f.Close()
	}
}

// TestChooseAlgosTimesLongPipelineOnce: a Winograd pipeline whose warm-up
// takes longTotalMs (150 ms) by the device timers runs once, unless the
// warm-up was the first dispatch of one of its kernels.
func TestChooseAlgosTimesLongPipelineOnce(t *testing.T) {
	f := twoTileAlgoFake(200e6)
	defer f.Close()
	plan, res := tunedAlgoPlan(t, f)
	from := len(f.calls)
	_, err := tune.ChooseAlgos(f, plan, res, tune.Options{})
	require.NoError(t, err)
	conv, gemm := implicitCalls(f, from)
	assert.Zero(t, conv)
	assert.Equal(t, 7, gemm, "one run of each pass's Winograd gemm, two of the first forward's and the first filter gradient's (their transforms' first dispatches)")
	assert.Equal(t, []string{"conv.0 forward gemm", "conv.0 backward-filter gemm", "conv.2 forward gemm",
		"conv.2 backward-data gemm", "conv.2 backward-filter gemm"}, algoNames(plan))
}

// TestChooseAlgosDiscountsFirstDispatches: a kernel's first dispatch
// costs a build (coldNs, a second here) on top of its time; the first
// Winograd pass, whose warm-up pays it, is timed again, so that Winograd,
// faster in truth (200 ms against 400 ms), is still chosen.
func TestChooseAlgosDiscountsFirstDispatches(t *testing.T) {
	times := map[backend.Kernel]int64{backend.KConv2DFwd: 400e6, backend.KGemm: 200e6,
		backend.KConv2DBwdData: 400e6, backend.KConv2DBwdFilter: 400e6}
	f := newFake(fakeConfig{"v=0", fakeTile{byKernel: times}}, fakeConfig{"v=1", fakeTile{byKernel: times}})
	defer f.Close()
	info := f.Device.Info()
	info.Type, info.Name = backend.CPUDevice, "fake cpu"
	f.info = &info
	plan, res := tunedAlgoPlan(t, f)
	f.coldNs = 1e9
	choices, err := tune.ChooseAlgos(f, plan, res, tune.Options{})
	require.NoError(t, err)
	require.NotEmpty(t, choices)
	assert.Equal(t, "conv.0", choices[0].Layer)
	assert.InDelta(t, 200, choices[0].WinogradMs, 1e-6, "the first pass's time without the build")
	for _, name := range algoNames(plan) {
		assert.Contains(t, name, " winograd", name)
	}
}

// TestChooseAlgosTouchesOutputsOnce: before the timings every buffer the
// passes write (outputs, the shared Winograd scratch) is filled with zeros
// once, so that no timing pays for the first touch of its pages (the
// inputs are filled with ones, as before).
func TestChooseAlgosTouchesOutputsOnce(t *testing.T) {
	f := twoTileAlgoFake(4e6)
	defer f.Close()
	plan, res := tunedAlgoPlan(t, f)
	f.zeroFills = map[backend.Buffer]int{}
	_, err := tune.ChooseAlgos(f, plan, res, tune.Options{})
	require.NoError(t, err)
	written := map[backend.Buffer]bool{}
	for k, c := range plan.ConvAlgos() {
		if !c.Winograd {
			continue
		}
		for _, algo := range []string{graph.ConvGemm, graph.ConvWinograd} {
			ds, err := plan.ConvDispatches(k, algo)
			require.NoError(t, err)
			for _, d := range ds {
				for i, b := range d.P.Buffers() {
					if b.Access.Writes() {
						written[d.Bufs[i]] = true
					}
				}
			}
		}
	}
	require.NotEmpty(t, written)
	for b := range written {
		assert.Equal(t, 1, f.zeroFills[b], "a buffer of %d elements", b.Len())
	}
}

// TestTileBudget: the tiles get seven eighths of the budget when the plan
// has passes whose algorithm is timed, all of it under conv_algo gemm.
func TestTileBudget(t *testing.T) {
	f := algoFake()
	defer f.Close()
	assert.Equal(t, 105*time.Second, tune.TileBudget(algoPlan(t, f), 2*time.Minute))
	gemm := algoPlanWith(t, f, graph.Config{Seed: 1, ConvAlgo: graph.ConvGemm})
	assert.Equal(t, 2*time.Minute, tune.TileBudget(gemm, 2*time.Minute))
}

// winogradGemmKey is the key of the gemm of pass i's Winograd dispatches.
func winogradGemmKey(t *testing.T, plan *graph.Plan, i int) backend.TuneKey {
	t.Helper()
	ds, err := plan.ConvDispatches(i, graph.ConvWinograd)
	require.NoError(t, err)
	for _, d := range ds {
		if d.P.Kernel() == backend.KGemm {
			return backend.KeyOf(d.P)
		}
	}
	t.Fatalf("pass %d has no Winograd gemm", i)
	return backend.TuneKey{}
}

// TestChooseAlgosRechecksCloseTimes: conv.2's input gradient takes 1.9 ms
// by Winograd and 2 ms by implicit GEMM, but the first four Winograd runs
// (the warm-up and three timed) are disturbed by 0.4 ms. Within
// algoMargin of each other, both are timed again and the fastest runs
// choose Winograd; the passes far apart are not timed again. With no
// budget left for the checks, the disturbed timing chooses implicit GEMM.
func TestChooseAlgosRechecksCloseTimes(t *testing.T) {
	for _, budget := range []time.Duration{0, time.Nanosecond} {
		f := twoTileAlgoFake(1.9e6)
		plan, res := tunedAlgoPlan(t, f)
		const pass = 3
		require.Equal(t, "conv.2 backward-data", plan.ConvAlgos()[pass].Name+" "+plan.ConvAlgos()[pass].Pass)
		key := winogradGemmKey(t, plan, pass)
		f.slow, f.slowNs = map[backend.TuneKey]int{key: 4}, 0.4e6
		from := len(f.calls)
		choices, err := tune.ChooseAlgos(f, plan, res, tune.Options{Budget: budget})
		require.NoError(t, err)
		var runs int
		for _, c := range f.calls[from:] {
			if c.key == key {
				runs++
			}
		}
		if budget == 0 {
			assert.Equal(t, "conv.2 backward-data winograd (tuned: winograd 1.9 ms, gemm 2 ms, the fastest with 3 more runs each)", plan.ConvAlgos()[pass].String())
			assert.InDelta(t, 1.9, choices[pass].WinogradMs, 1e-9)
			assert.Equal(t, 4+3, runs, "the warm-up, three runs and three checks")
			for i, c := range plan.ConvAlgos() {
				if i != pass {
					assert.NotContains(t, c.String(), "more runs", "%s: far apart, timed once", c.Name+" "+c.Pass)
				}
			}
		} else {
			assert.Equal(t, "conv.2 backward-data gemm (tuned: winograd 2.3 ms, gemm 2 ms)", plan.ConvAlgos()[pass].String())
			assert.Equal(t, 4, runs, "no budget for the checks")
		}
		f.Close()
	}
}
