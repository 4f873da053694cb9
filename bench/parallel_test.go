package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/parallel"
)

func TestParallelRatiosFromTiming(t *testing.T) {
	ms := time.Millisecond
	tm := parallel.Timing{Images: []int{96, 32}, Compute: []time.Duration{80 * ms, 100 * ms}, Reduce: 7 * ms}
	assert.InDelta(t, 0.07, ReduceOverhead(tm), 1e-12, "reduce / slowest compute")
	assert.InDelta(t, 0.20, Balance(tm), 1e-12, "|80-100| / 100")
	tm.Compute = []time.Duration{100 * ms, 80 * ms}
	assert.InDelta(t, 0.20, Balance(tm), 1e-12, "the order of the replicas does not matter")
	three := parallel.Timing{Images: []int{10, 0, 20}, Compute: []time.Duration{50 * ms, 0, 40 * ms}, Reduce: 10 * ms}
	assert.InDelta(t, 0.20, Balance(three), 1e-12, "a replica without images is left out")
	assert.InDelta(t, 0.20, ReduceOverhead(three), 1e-12)
	assert.Zero(t, Balance(parallel.Timing{Images: []int{8}, Compute: []time.Duration{9 * ms}}), "one replica is balanced")
	assert.True(t, math.IsNaN(ReduceOverhead(parallel.Timing{})), "nothing computed")
	assert.True(t, math.IsNaN(Balance(parallel.Timing{})))
}

func TestParallelRunFiguresFromTimings(t *testing.T) {
	ms := time.Millisecond
	step := func(a, b, reduce, all time.Duration) parallel.Timing {
		return parallel.Timing{Images: []int{96, 32}, Compute: []time.Duration{a, b}, Reduce: reduce, Allreduce: all,
			Update: 2 * ms, Bytes: 8_000_000}
	}
	r := ParallelRun{Label: "2 ranks", Devices: []string{"opencl:0", "vulkan:0"}, Ranks: 2, Batch: 128}
	r.setWall([]float64{200, 100, 400})
	r.setTimings([]parallel.Timing{step(90*ms, 100*ms, 10*ms, 4*ms), step(100*ms, 80*ms, 4*ms, 2*ms), step(50*ms, 50*ms, 20*ms, 8*ms)}, []float64{0.75, 0.25})
	assert.InDelta(t, 640, r.ImagesPerSec.Median, 1e-9, "128 images in 200 ms (the median of 100, 200, 400)")
	assert.InDelta(t, 320, r.ImagesPerSec.Min, 1e-9, "the slowest step")
	assert.InDelta(t, 1280, r.ImagesPerSec.Max, 1e-9)
	assert.Equal(t, Stat{Median: 10, Min: 4, Max: 20, N: 3}, r.Reduce)
	assert.Equal(t, Stat{Median: 4, Min: 2, Max: 8, N: 3}, r.Allreduce)
	assert.InDelta(t, 0.1, r.Overhead.Median, 1e-12, "per step: 10/100, 4/100, 20/50")
	assert.InDelta(t, 0.04, r.Overhead.Min, 1e-12)
	assert.InDelta(t, 0.4, r.Overhead.Max, 1e-12)
	assert.InDelta(t, 0.1, r.Balance.Median, 1e-12, "per step: 0.1, 0.2, 0")
	assert.InDelta(t, 0.8, r.ReduceGBPS, 1e-12, "8 MB in 10 ms")
	assert.InDelta(t, 2.0, r.AllreduceBusGBPS, 1e-12, "2(2-1)/2 x 8 MB in 4 ms")
	assert.Equal(t, int64(8_000_000), r.GradBytes)
	require.Len(t, r.Replicas, 2)
	assert.Equal(t, ReplicaResult{Device: "vulkan:0", Share: 0.25, Images: 32, Compute: Stat{Median: 80, Min: 50, Max: 100, N: 3}}, r.Replicas[1])

	one := ParallelRun{Ranks: 1, Devices: []string{"a", "b"}}
	one.setTimings([]parallel.Timing{step(90*ms, 100*ms, 10*ms, 0)}, nil)
	assert.Zero(t, one.AllreduceBusGBPS, "no allreduce in one process")
}

// fixedReport is a data-parallel report with one run of each kind.
func fixedReport() *ParallelReport {
	ms := time.Millisecond
	group := ParallelRun{Label: "2 devices", Devices: []string{"opencl:0", "vulkan:0"}, Ranks: 1, Batch: 128, SpeedUp: 0.91}
	group.setWall([]float64{110})
	group.setTimings([]parallel.Timing{{Images: []int{120, 8}, Compute: []time.Duration{100 * ms, 92 * ms}, Reduce: 6 * ms,
		Update: 3 * ms, Bytes: 25_000_000}}, []float64{0.94, 0.06})
	bad := ParallelRun{Label: "3 devices", Devices: []string{"a", "b", "c"}, Ranks: 1, Batch: 128}
	bad.setWall([]float64{300})
	bad.setTimings([]parallel.Timing{{Images: []int{64, 32, 32}, Compute: []time.Duration{100 * ms, 50 * ms, 60 * ms}, Reduce: 30 * ms,
		Bytes: 25_000_000}}, []float64{0.5, 0.25, 0.25})
	alone := ParallelRun{Label: "opencl:0 alone", Devices: []string{"opencl:0"}, Ranks: 1, Batch: 128}
	alone.setWall([]float64{100})
	ranks := ParallelRun{Label: "2 ranks", Devices: []string{"opencl:0"}, Ranks: 2, Batch: 128, RankCompute: []float64{90, 100}}
	ranks.setWall([]float64{120})
	ranks.setTimings([]parallel.Timing{{Images: []int{64}, Compute: []time.Duration{90 * ms}, Reduce: 36 * ms, Allreduce: 30 * ms,
		Bytes: 25_000_000}}, []float64{1})
	return &ParallelReport{Stamp: NewStamp("v1", "crossgrad bench --devices opencl:0,vulkan:0"), Ranks: 2,
		Settings: Settings{Model: "alexnet", InputSize: 65, Width: 0.5, GPUBatch: 128, CPUBatch: 128, Runs: 1},
		Runs:     []ParallelRun{alone, group, bad, ranks}, Note: sharedCoresNote([]backend.Info{{Type: backend.CPUDevice}, {Type: backend.CPUDevice}})}
}

func TestParallelReportTable(t *testing.T) {
	var txt bytes.Buffer
	require.NoError(t, fixedReport().WriteText(&txt))
	out := txt.String()
	assert.Regexp(t, `run +devices +ranks +batch +images/s +speed-up +step ms +reduce ms +allreduce ms +update ms +grad MB +reduce GB/s +allreduce bus GB/s +reduce overhead +balance +error`, out)
	assert.Regexp(t, `opencl:0 alone +opencl:0 +1 +128 +1280\.0 +100\.0 *\n`, out, "a device alone has no reduction columns")
	assert.Regexp(t, `2 devices +opencl:0,vulkan:0 +1 +128 +1163\.6 +0\.91x +110\.0 +6\.00 +3\.00 +25\.0 +4\.17 +6\.0% +8\.0%`, out)
	assert.Regexp(t, `2 devices +vulkan:0 +6\.0% +8 +92\.0`, out, "the replica table")
	assert.Contains(t, out, "2 devices: reduction overhead (reduce / slowest replica compute) 6.0%, goal <= 10.0% at the cpu-quick shape (input 65, width 0.5, batch 128): met")
	assert.Contains(t, out, "2 devices: balance |tA - tB| / max(tA, tB) of the replicas' compute 8.0%, goal <= 15.0%: met")
	assert.Contains(t, out, "3 devices: reduction overhead (reduce / slowest replica compute) 30.0%, goal <= 10.0% at the cpu-quick shape (input 65, width 0.5, batch 128): NOT met")
	assert.Contains(t, out, "3 devices: balance |tA - tB| / max(tA, tB) of the replicas' compute 50.0%, goal <= 15.0%: NOT met")
	assert.Contains(t, out, "note: every replica runs on this machine's CPU cores")
	assert.Contains(t, out, "2 ranks: slowest replica compute per rank: rank 0 90.0 ms, rank 1 100.0 ms; balance across the ranks 10.0%")
	assert.Regexp(t, `2 ranks +opencl:0 +2 +128 .* 40\.0% +\n`, out, "one replica a rank: no replica balance")
	assert.Contains(t, out, "- reduce overhead: reduce ms over the slowest replica's compute ms")

	var md bytes.Buffer
	require.NoError(t, fixedReport().WriteMarkdown(&md))
	assert.True(t, strings.HasPrefix(md.String(), "# crossgrad bench (data-parallel) v1, "), md.String())
	assert.Contains(t, md.String(), "| "+strings.Join(ParallelColumns, " | ")+" |")

	var js bytes.Buffer
	require.NoError(t, fixedReport().WriteJSON(&js))
	var back ParallelReport
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	require.Len(t, back.Runs, 4)
	assert.InDelta(t, 0.06, back.Runs[1].Overhead.Median, 1e-12)
}

func TestParallelBadInput(t *testing.T) {
	_, err := ReplicaTargets([]string{"ref", "nosuch"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `fix the entry "nosuch" of --devices (key devices)`)
	assert.Contains(t, err.Error(), "registered backends")
	_, err = ReplicaTargets([]string{"ref", "ref:0"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `ref:0 is named twice ("ref" and "ref:0")`)
	ts, err := ReplicaTargets([]string{"ref:0"})
	require.NoError(t, err)
	assert.Equal(t, "ref:0", ts[0].ID())

	c := tinyConfig()
	two := twoRefs()
	run := func(o ParallelOptions) error {
		o.Config = c
		_, err := RunParallel(context.Background(), o)
		return err
	}
	err = run(ParallelOptions{Targets: two[:1]})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "one device (ref:0) in one process")
	err = run(ParallelOptions{Targets: two, Shares: []float64{1}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "device_shares: 1 shares for 2 devices")
	err = run(ParallelOptions{Targets: two, Shares: []float64{1, -2}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "device_shares: share 2 (-2, for ref:1) must be positive")
	c.BatchSize = 1
	err = run(ParallelOptions{Targets: two})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "batch_size: 1 images cannot be split over 2 replicas")
}

// twoRefs are two reference devices as two targets (ref has one device).
func twoRefs() []backend.Info {
	info := ref.New().Info()
	a, b := info, info
	b.Index = 1
	return []backend.Info{a, b}
}

func openRef(string) (backend.Device, error) { return ref.New(), nil }

func TestRunParallelTwoRefDevices(t *testing.T) {
	c := tinyConfig()
	c.BatchSize = 4
	rep, err := RunParallel(context.Background(), ParallelOptions{Targets: twoRefs(), Config: c, Open: openRef, Runs: 2, Warmup: -1, BalanceSteps: 1})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Ranks)
	require.Len(t, rep.Runs, 3)
	assert.Equal(t, []string{"ref:0 alone", "ref:1 alone", "2 devices"}, []string{rep.Runs[0].Label, rep.Runs[1].Label, rep.Runs[2].Label})
	for _, r := range rep.Runs {
		assert.Empty(t, r.Err, r.Label)
		assert.Equal(t, 2, r.Wall.N, r.Label)
		assert.Positive(t, r.ImagesPerSec.Median, r.Label)
	}
	g := rep.Runs[2]
	require.Len(t, g.Replicas, 2)
	assert.Equal(t, 4, g.Replicas[0].Images+g.Replicas[1].Images, "the global batch split over the replicas")
	assert.InDelta(t, 1, g.Replicas[0].Share+g.Replicas[1].Share, 1e-9)
	assert.Positive(t, g.Replicas[0].Compute.Median)
	assert.Positive(t, g.Reduce.Median)
	assert.Positive(t, g.GradBytes)
	assert.True(t, g.Overhead.Valid())
	best := math.Max(rep.Runs[0].ImagesPerSec.Median, rep.Runs[1].ImagesPerSec.Median)
	assert.InDelta(t, g.ImagesPerSec.Median/best, g.SpeedUp, 1e-9)
	assert.Contains(t, rep.Note, "share the cores")

	fixed, err := RunParallel(context.Background(), ParallelOptions{Targets: twoRefs(), Config: c, Open: openRef, Runs: 1, Warmup: -1, Shares: []float64{3, 1}})
	require.NoError(t, err)
	fg := fixed.Runs[2]
	require.Len(t, fg.Replicas, 2)
	assert.Equal(t, []int{3, 1}, []int{fg.Replicas[0].Images, fg.Replicas[1].Images}, "device_shares 3:1 of 4 images")

	only, err := RunParallel(context.Background(), ParallelOptions{Targets: twoRefs(), Config: c, Open: openRef, Runs: 1, Warmup: -1, Shares: []float64{1, 1}, NoAlone: true})
	require.NoError(t, err)
	require.Len(t, only.Runs, 1, "NoAlone: the group alone")
	assert.Equal(t, "2 devices", only.Runs[0].Label)
	assert.Empty(t, only.Runs[0].Err)
	assert.Zero(t, only.Runs[0].SpeedUp, "no device alone to compare with")
}

// doublingReducer stands for a second rank that contributes the same as
// this one: every sum doubles.
type doublingReducer struct{ agreed int }

func (*doublingReducer) Rank() int { return 0 }
func (*doublingReducer) Size() int { return 2 }
func (*doublingReducer) AllreduceSum(buf []float32) error {
	for i := range buf {
		buf[i] *= 2
	}
	return nil
}
func (d *doublingReducer) Agree(uint64) (bool, error) { d.agreed++; return true, nil }

func TestRunParallelWithRanks(t *testing.T) {
	c := tinyConfig()
	c.BatchSize = 4
	red := &doublingReducer{}
	rep, err := RunParallel(context.Background(), ParallelOptions{Targets: twoRefs()[:1], Config: c, Open: openRef, Runs: 1, Warmup: -1,
		BalanceSteps: 1, Reducer: red})
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Ranks)
	require.Len(t, rep.Runs, 2, "the device alone (rank 0 alone), then the 2 ranks")
	assert.Equal(t, "ref:0 alone", rep.Runs[0].Label)
	r := rep.Runs[1]
	assert.Equal(t, "2 ranks", r.Label)
	assert.Empty(t, r.Err)
	require.Len(t, r.Replicas, 1)
	assert.Equal(t, 2, r.Replicas[0].Images, "rank 0 trains on half the global batch")
	assert.Positive(t, r.AllreduceBusGBPS)
	require.Len(t, r.RankCompute, 2)
	assert.Positive(t, r.RankCompute[0])
	assert.InDelta(t, r.ImagesPerSec.Median/rep.Runs[0].ImagesPerSec.Median, r.SpeedUp, 1e-9)
	assert.Positive(t, red.agreed, "the ranks agreed on the benchmark before the run together")
}
