package bench

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	_ "github.com/crossgrad/crossgrad/backend/opencl"
)

func TestBenchSummarize(t *testing.T) {
	s := Summarize([]float64{5, 1, 3})
	assert.Equal(t, Stat{Median: 3, Min: 1, Max: 5, N: 3}, s)
	s = Summarize([]float64{4, 1, math.NaN(), 2, 10})
	assert.Equal(t, Stat{Median: 3, Min: 1, Max: 10, N: 4}, s, "even count: mean of the middle two; NaN ignored")
	assert.False(t, Summarize(nil).Valid())
	assert.False(t, Summarize([]float64{math.NaN()}).Valid())
	in := []float64{3, 2, 1}
	Summarize(in)
	assert.Equal(t, []float64{3, 2, 1}, in, "input not reordered")

	// Times to rates: a decreasing map swaps min and max.
	r := Stat{Median: 200, Min: 100, Max: 400, N: 3}.Map(func(ms float64) float64 { return 8 / (ms / 1e3) })
	assert.InDelta(t, 40, r.Median, 1e-12)
	assert.InDelta(t, 20, r.Min, 1e-12)
	assert.InDelta(t, 80, r.Max, 1e-12)
	assert.False(t, Stat{}.Map(math.Sqrt).Valid())
}

func TestBenchWorkOf(t *testing.T) {
	g := backend.NewConv2DShape(2, 3, 9, 7, 5, 3, 3, 1, 1)
	w := WorkOf(backend.Conv2DFwd{Conv2DShape: g})
	assert.True(t, w.Compute)
	assert.Equal(t, float64(2*2*5*9*7*3*3*3), w.FLOP)
	assert.Equal(t, float64(4*(2*3*9*7+5*3*3*3+5+2*5*9*7)), w.Bytes)
	w = WorkOf(backend.Gemm{M: 3, N: 5, K: 7, Alpha: 1})
	assert.Equal(t, float64(2*3*5*7), w.FLOP)
	assert.Equal(t, float64(4*(21+35+15)), w.Bytes)
	w = WorkOf(backend.Gemm{M: 3, N: 5, K: 7, Alpha: 1, Beta: 1})
	assert.Equal(t, float64(4*(21+35+30)), w.Bytes, "beta != 0 reads C")
	w = WorkOf(backend.NewAdam(10, 1e-3, 0.9, 0.999, 1e-8, 1))
	assert.False(t, w.Compute)
	assert.Zero(t, w.FLOP)
	assert.Equal(t, float64(280), w.Bytes)
	for _, k := range backend.Kernels() {
		assert.NotEmpty(t, ShapeOf(sampleParams(k)), k)
		assert.Positive(t, WorkOf(sampleParams(k)).Bytes, k)
	}
}

// sampleParams is a small valid params struct of kernel k: its first
// conformance case's.
func sampleParams(k backend.Kernel) backend.Params {
	if cs := backendtest.CasesOf(k); len(cs) > 0 {
		return cs[0].Params
	}
	return nil
}

// TestRunRef benchmarks a tiny AlexNet on the reference device and checks
// every section and every output format.
func TestBenchRunRef(t *testing.T) {
	var log bytes.Buffer
	rep, err := Run(context.Background(), Options{Targets: targets(t, "ref"), Config: tinyConfig(), CPUBatch: 2,
		Runs: 3, Warmup: 1, Log: &log, Version: "test", Cold: func(ctx context.Context, id string, batch int, env []string) (ColdRun, error) {
			return MeasureCold(id, tinyConfig(), batch, nil), nil
		}})
	require.NoError(t, err)
	require.Len(t, rep.Devices, 1)
	d := rep.Devices[0]
	assert.Equal(t, "ref:0", d.ID)
	assert.Empty(t, d.Err)
	assert.Equal(t, 2, d.Batch)
	assert.Equal(t, "host", d.Timer)
	require.NotNil(t, d.Ceilings)
	assert.Contains(t, d.Ceilings.Err, "n/a")

	seen := map[string]bool{}
	for _, k := range d.Kernels {
		seen[k.Kernel] = true
		assert.Empty(t, k.Err, "%s %s", k.Kernel, k.Where)
		assert.Equal(t, 3, k.Wall.N, "%s %s", k.Kernel, k.Where)
		assert.Equal(t, 3, k.Device.N, "ref reports host kernel times")
		assert.LessOrEqual(t, k.Wall.Min, k.Wall.Median)
		assert.LessOrEqual(t, k.Wall.Median, k.Wall.Max)
		assert.Positive(t, k.GBPS, "%s %s", k.Kernel, k.Where)
		if k.Compute {
			assert.Positive(t, k.GFLOPS, k.Kernel)
		}
	}
	for _, k := range backend.Kernels() {
		assert.True(t, seen[string(k)], "kernel %s has a row", k)
	}
	adam := 0
	for _, k := range d.Kernels {
		if k.Kernel == "adam" {
			adam++
			assert.Equal(t, 16, k.Calls, "every parameter tensor in one row")
		}
	}
	assert.Equal(t, 1, adam)

	phases := map[string]bool{}
	for _, l := range d.Layers {
		phases[l.Layer+" "+l.Phase] = true
		assert.Empty(t, l.Err)
		assert.Equal(t, 3, l.Wall.N)
	}
	for _, want := range []string{"input forward", "conv.0 forward", "conv.0 backward", "conv.0 update", "fc.6 backward", "loss forward"} {
		assert.True(t, phases[want], want)
	}

	require.NotNil(t, d.Step)
	assert.Empty(t, d.Step.Err)
	assert.Equal(t, 3, d.Step.Wall.N)
	assert.Positive(t, d.Step.ImagesPerSec.Median)
	assert.InDelta(t, 2/(d.Step.Wall.Median/1e3), d.Step.ImagesPerSec.Median, 1e-9)
	assert.Positive(t, d.Step.FLOP)

	require.NotNil(t, d.Cold)
	assert.Empty(t, d.Cold.Err)
	assert.Positive(t, d.Cold.Cold.FirstStepMs)
	assert.Positive(t, d.Cold.Warm.TotalMs)
	assert.Contains(t, log.String(), "ref:0")

	// JSON round trip.
	var js bytes.Buffer
	require.NoError(t, rep.WriteJSON(&js))
	back, err := ReadJSON(&js)
	require.NoError(t, err)
	assert.Equal(t, rep.Devices[0].Kernels, back.Devices[0].Kernels)
	assert.Equal(t, "test", back.Stamp.Version)
	assert.Equal(t, rep.Stamp.Date, back.Stamp.Date)

	var md, txt bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&md))
	require.NoError(t, rep.WriteText(&txt))
	for _, out := range []string{md.String(), txt.String()} {
		for _, want := range []string{"crossgrad bench test", "ref:0", "conv2d_bwd_filter", "images/s", "fc.6", "caches cold"} {
			assert.Contains(t, out, want)
		}
	}
	assert.Contains(t, md.String(), "| kernel | where | shape |")
	assert.Contains(t, md.String(), "|---|---|")
	assert.Regexp(t, `^# crossgrad bench test`, md.String())
}

// TestFailures checks the bad-input rules: a device that does not open and
// a kernel that fails mid-benchmark are reported in their rows while the
// rest still runs.
func TestBenchFailures(t *testing.T) {
	c := tinyConfig()
	c.ConvAlgo = "gemm" // every convolution's filter gradient is conv2d_bwd_filter
	o := Options{Targets: targets(t, fakeName, "ref"), Config: c, CPUBatch: 2, Runs: 1, Warmup: -1,
		Skip: map[string]bool{SecCold: true}}
	rep, err := Run(context.Background(), o)
	require.NoError(t, err)
	require.Len(t, rep.Devices, 3)
	broken, flaky, good := rep.Devices[0], rep.Devices[1], rep.Devices[2]
	assert.Contains(t, broken.Err, "no such card")
	assert.Nil(t, broken.Step)

	assert.Empty(t, flaky.Err)
	nbad := 0
	for _, k := range flaky.Kernels {
		if k.Kernel == string(backend.KConv2DBwdFilter) {
			nbad++
			assert.Contains(t, k.Err, "lost the device")
			assert.False(t, k.Wall.Valid())
		} else {
			assert.Empty(t, k.Err, k.Kernel)
			assert.True(t, k.Wall.Valid(), k.Kernel)
		}
	}
	assert.Equal(t, 5, nbad, "one row per convolution")
	for _, l := range flaky.Layers {
		if l.Type == "Conv2d" && l.Phase == "backward" {
			assert.Contains(t, l.Err, "lost the device")
		}
	}
	require.NotNil(t, flaky.Step)
	assert.Contains(t, flaky.Step.Err, "lost the device")

	assert.Empty(t, good.Err)
	require.NotNil(t, good.Step)
	assert.Empty(t, good.Step.Err)

	var txt bytes.Buffer
	require.NoError(t, rep.WriteText(&txt))
	assert.Contains(t, txt.String(), "no such card")
	assert.Contains(t, txt.String(), "training step: ERROR")
}

func TestBenchTargets(t *testing.T) {
	_, err := Targets([]string{"nosuch"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "registered backends")
	_, err = Targets([]string{"ref:7"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ref:0", "lists what exists")
	ts := targets(t, "ref", "ref:0")
	require.Len(t, ts, 1, "duplicates removed")
	all := targets(t, "all")
	assert.Equal(t, backend.Reference, all[len(all)-1].Type, "reference last")
}

// TestOpenCL runs the ceilings and a tiny model through the first OpenCL
// device when one exists (PoCL here).
func TestBenchOpenCL(t *testing.T) {
	ts, err := Targets([]string{"opencl"})
	if err != nil {
		t.Skipf("no OpenCL device: %v", err)
	}
	rep, err := Run(context.Background(), Options{Targets: ts[:1], Config: tinyConfig(), CPUBatch: 2, Runs: 1, Warmup: 1,
		Skip: map[string]bool{SecCold: true}})
	require.NoError(t, err)
	d := rep.Devices[0]
	require.Empty(t, d.Err)
	assert.Equal(t, "device", d.Timer)
	require.NotNil(t, d.Ceilings)
	require.Empty(t, d.Ceilings.Err)
	assert.Positive(t, d.Ceilings.FMA.Median)
	assert.Positive(t, d.Ceilings.Copy.Median)
	for _, k := range d.Kernels {
		assert.Empty(t, k.Err, k.Kernel)
		assert.True(t, k.Device.Valid(), "%s has device time", k.Kernel)
		if k.Compute {
			assert.Positive(t, k.PctFMA, k.Kernel)
		} else {
			assert.Positive(t, k.PctCopy, k.Kernel)
		}
	}
	require.NotNil(t, d.Step)
	assert.Empty(t, d.Step.Err)
	assert.Positive(t, d.Step.Device.Median)
}

func TestBenchColdStart(t *testing.T) {
	var envs [][]string
	cs := MeasureColdStart(context.Background(), func(ctx context.Context, id string, batch int, env []string) (ColdRun, error) {
		envs = append(envs, env)
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			if strings.HasSuffix(k, "_DIR") || k == "XDG_CACHE_HOME" {
				st, err := os.Stat(v)
				require.NoError(t, err, k)
				require.True(t, st.IsDir())
			}
		}
		return MeasureCold(id, tinyConfig(), batch, nil), nil
	}, "ref:0", 2)
	assert.Empty(t, cs.Err)
	require.Len(t, envs, 2)
	assert.Equal(t, envs[0], envs[1], "the warm run reuses the cold run's caches")
	assert.Contains(t, strings.Join(envs[0], " "), "POCL_CACHE_DIR=")
	assert.Positive(t, cs.Cold.FirstStepMs)
	assert.Positive(t, cs.Warm.SecondStepMs)
	dir := filepath.Dir(strings.TrimPrefix(envs[0][0], "POCL_CACHE_DIR="))
	_, err := os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "cache folder removed")

	r := MeasureCold("ref:9", tinyConfig(), 2, nil)
	assert.Contains(t, r.Err, "open")

	run := ChildRunner("/bin/sh", func(id string, batch int) []string {
		return []string{"-c", `echo progress; echo '{"open_ms": 12.5, "first_step_ms": 3}'`}
	}, 0)
	got, err := run(context.Background(), "x", 1, nil)
	require.NoError(t, err)
	assert.Equal(t, 12.5, got.OpenMs)
	run = ChildRunner("/bin/sh", func(string, int) []string { return []string{"-c", "echo boom >&2; exit 3"} }, 0)
	_, err = run(context.Background(), "x", 1, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "boom")
	cs = MeasureColdStart(context.Background(), run, "x", 1)
	assert.Contains(t, cs.Err, "boom")
	assert.Contains(t, cs.Cold.Err, "boom")
}

func TestBenchTargetsGPU(t *testing.T) {
	ts, err := Targets([]string{"gpu"})
	if err == nil {
		for _, i := range ts {
			assert.True(t, isGPU(i), i.ID())
		}
		return
	}
	assert.Contains(t, err.Error(), "no GPU")
	assert.Contains(t, err.Error(), "ref:0 = pure-Go reference")
}
