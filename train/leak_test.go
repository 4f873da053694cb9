package train

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bounds of the leak test between a warm sample (after the first
// checkpoint and prune) and the last step.
const (
	leakHeapBytes = 1 << 20  // Go heap growth after GC
	leakRSSBytes  = 24 << 20 // resident set growth (C allocations of the drivers)
)

// usage is one sample of what a run holds.
type usage struct {
	step       int
	buffers    int   // live device buffers (backend.BufferCounter)
	objects    int   // native objects, when the device counts them (-1: not exposed)
	heap       int64 // Go heap in use after GC
	rss        int64 // resident set size, bytes (-1: unknown)
	goroutines int
}

func sample(step int, dev backend.Device) usage {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	u := usage{step: step, buffers: -1, objects: -1, heap: int64(ms.HeapAlloc), rss: rss(), goroutines: runtime.NumGoroutine()}
	if bc, ok := dev.(backend.BufferCounter); ok {
		u.buffers = bc.LiveBuffers()
	}
	if oc, ok := dev.(interface{ LiveObjects() int }); ok {
		u.objects = oc.LiveObjects()
	}
	return u
}

// rss reads the resident set size from /proc (Linux), or -1.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return -1
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return -1
	}
	return pages * int64(os.Getpagesize())
}

// leakRun is one leak check: the device spec, the steps, and the batch and
// width of the tiny model (input 65).
type leakRun struct {
	spec         string
	steps, batch int
	width        float64
}

// checkNoLeaks trains r.steps steps of batch r.batch (two epochs, a
// checkpoint every 100 steps keeping 2, an evaluation per epoch) on r.spec
// and requires live device buffers, native objects and goroutines to stay
// equal and the Go heap and resident set to stay within the bounds above
// from step 201 (or half the run) to the last step, and every buffer
// released after Run.
func checkNoLeaks(t *testing.T, r leakRun) {
	spec, steps := r.spec, r.steps
	c := tinyConfig(t)
	c.Backend, c.BatchSize, c.Width, c.CheckpointEverySteps, c.KeepCheckpoints = []string{spec}, r.batch, r.width, 100, 2
	require.NoError(t, c.Validate())
	var dev backend.Device
	var samples []usage
	warm := min(201, steps/2)
	o := Options{
		WrapDevice: func(d backend.Device) (backend.Device, error) {
			dev = d
			return d, nil
		},
		BeforeStep: func(step int, _ *graph.Plan) error {
			if step == warm || step == steps {
				samples = append(samples, sample(step, dev))
			}
			return nil
		},
	}
	start := time.Now()
	res, err := runSets(t, context.Background(), c, o, synthSet(1, steps*r.batch/2), synthSet(2, 8))
	require.NoError(t, err)
	require.Equal(t, steps, res.Step)
	require.Len(t, samples, 2)
	a, b := samples[0], samples[1]
	t.Logf("%s: %d steps in %.1fs; step %d -> %d: buffers %d -> %d, native objects %d -> %d, heap %d -> %d B, RSS %d -> %d KiB, goroutines %d -> %d",
		res.Device, steps, time.Since(start).Seconds(), a.step, b.step, a.buffers, b.buffers, a.objects, b.objects,
		a.heap, b.heap, a.rss>>10, b.rss>>10, a.goroutines, b.goroutines)
	require.Positive(t, a.buffers, "the device counts its buffers")
	assert.Equal(t, a.buffers, b.buffers, "live device buffers")
	assert.Equal(t, a.objects, b.objects, "native objects")
	assert.LessOrEqual(t, b.goroutines, a.goroutines, "goroutines (the prefetcher of the last epoch may have finished)")
	assert.Less(t, b.heap-a.heap, int64(leakHeapBytes), "Go heap growth")
	if a.rss > 0 {
		assert.Less(t, b.rss-a.rss, int64(leakRSSBytes), "resident set growth")
	}
	assert.Equal(t, 0, dev.(backend.BufferCounter).LiveBuffers(), "every buffer released after Run")
}

// leakWidth is the width of the ref and Vulkan leak runs: 1/64 (channels
// 2..6, hidden 64) runs the same kernels, split-K passes and scratch buffers
// as width 1/16 in a third (ref) to a half (lavapipe) of the time; on
// Vulkan only the GEMM tile specializations differ. OpenCL keeps width 1/16
// and batch 4: narrower or smaller, PoCL drops its tiled conv2d_bwd_data and
// split conv2d_bwd_filter.
const leakWidth = 1.0 / 64

// TestNoLeaksRef runs 600 steps, sampled from step 201 as OpenCL's.
func TestNoLeaksRef(t *testing.T) {
	heavyOnRef(t)
	checkNoLeaks(t, leakRun{spec: "ref", steps: 600, batch: 4, width: leakWidth})
}

// TestNoLeaksOpenCL runs 600 steps (two epochs of 300: the sampled steps
// 201 to 600 span an epoch's evaluation, four checkpoints and their
// prunes); under -short (make test's race detector run) 300, whose sampled
// steps 150 to 300 still span an evaluation, two checkpoints and a prune.
func TestNoLeaksOpenCL(t *testing.T) {
	needBackend(t, "opencl")
	steps := 600
	if testing.Short() {
		steps = 300
	}
	checkNoLeaks(t, leakRun{spec: "opencl", steps: steps, batch: 4, width: 1.0 / 16})
}

// TestNoLeaksVulkan runs 300 steps, not 1000: lavapipe's shaders take
// about 45 ms per step even at width 1/64 and batch 2 (a submission and
// fence wait per step; batch 2 runs the same passes as batch 4); the
// sampled steps 150 to 300 span an evaluation, two checkpoints and a
// prune, and the counters and heap are flat from there on (checked up to
// step 1000 by hand: Go heap +80 KB, constant native objects).
func TestNoLeaksVulkan(t *testing.T) {
	if testing.Short() {
		t.Skip("about 20 s, longer under the race detector; runs without -short")
	}
	needBackend(t, "vulkan")
	checkNoLeaks(t, leakRun{spec: "vulkan", steps: 300, batch: 2, width: leakWidth})
}
