package opencl

import (
	"fmt"

	"github.com/jgillich/go-opencl/cl"

	"github.com/crossgrad/crossgrad/backend"
)

var _ backend.Peaker = (*Device)(nil)

// peakChains and peakUnroll are PEAK_CHAINS and PEAK_UNROLL of
// shaders/opencl/peak.cl (-D options, which it checks): twelve independent
// chains, so that a CPU core's two FMA pipes of latency 4-5 cycles stay
// busy (eight chains of float4 or float16 reached 103 GFLOP/s on a 2-core
// Zen 2 whose AVX2 FMA loop in C reaches 193; twelve of float8, 112-131).
const peakChains, peakUnroll = 12, 4

// peakFMAVariants are the peak_fma kernels of shaders/opencl/peak.cl and
// their vector widths; PeakFMA reports the best.
var peakFMAVariants = []struct {
	name  string
	width int
}{{"peak_fma", 1}, {"peak_fma4", 4}, {"peak_fma8", 8}, {"peak_fma16", 16}}

// peakFlopsPerItem is the FLOP count of one work item of a peak_fma kernel
// of vector width w per round: 2 FLOPs per FMA, 8 chains, 4 FMAs per chain.
func peakFlopsPerItem(w int) float64 { return float64(2 * w * peakChains * peakUnroll) }

// PeakFMA runs each peak_fma variant (float, float4, float16) once over n
// work items of iters rounds and returns the best throughput in GFLOP/s,
// timed with profiling events. It waits for queued work first.
func (d *Device) PeakFMA(n, iters int) (float64, error) {
	if err := d.usable(); err != nil {
		return 0, err
	}
	if n < 1 || iters < 1 || n > backend.MaxElements || iters > 1<<30 {
		return 0, fmt.Errorf("opencl: peak fma: n %d and iters %d must be positive (n <= %d, iters <= 2^30)", n, iters, backend.MaxElements)
	}
	out, err := d.ctx.CreateEmptyBuffer(cl.MemReadWrite, 4*n)
	if err != nil {
		return 0, fmt.Errorf("opencl: peak fma: %w", wrapCL("clCreateBuffer", err))
	}
	defer out.Release()
	best := 0.0
	for _, v := range peakFMAVariants {
		ns, err := d.timeKernel(v.name, []int{n}, out, uint32(n), float32(0.999), float32(0.001), uint32(iters))
		if err != nil {
			return 0, err
		}
		if ns > 0 {
			best = max(best, peakFlopsPerItem(v.width)*float64(n)*float64(iters)/float64(ns))
		}
	}
	return best, nil
}

// PeakCopy copies nbytes (rounded down to whole float4s) between two fresh
// device buffers, twice untimed (one copy each way, so every page of both is
// written: on CPU drivers first touches cost more than the copy) and once
// timed, and
// returns (read + written bytes) / device time in GB/s.
func (d *Device) PeakCopy(nbytes int) (float64, error) {
	if err := d.usable(); err != nil {
		return 0, err
	}
	n4 := nbytes / 16
	if n4 < 1 || (d.info.MaxAlloc > 0 && uint64(n4)*16 > d.info.MaxAlloc) {
		return 0, fmt.Errorf("opencl: peak copy of %d bytes: want 16 bytes to the largest allocation (%d)", nbytes, d.info.MaxAlloc)
	}
	var bufs [2]*cl.MemObject
	for i := range bufs {
		b, err := d.ctx.CreateEmptyBuffer(cl.MemReadWrite, 16*n4)
		if err != nil {
			return 0, fmt.Errorf("opencl: peak copy: %w", wrapCL("clCreateBuffer", err))
		}
		defer b.Release()
		bufs[i] = b
	}
	// Untimed copies both ways: every page of both buffers written once.
	for _, dir := range [][2]int{{0, 1}, {1, 0}} {
		if _, err := d.timeKernel("peak_copy", []int{n4}, bufs[dir[0]], bufs[dir[1]], uint32(n4)); err != nil {
			return 0, err
		}
	}
	ns, err := d.timeKernel("peak_copy", []int{n4}, bufs[0], bufs[1], uint32(n4))
	if err != nil || ns <= 0 {
		return 0, err
	}
	return 2 * 16 * float64(n4) / float64(ns), nil
}

// peakLocal is the work-group size of a peak kernel: 256 (or the kernel's
// limit when lower; PoCL vectorises across a work-group, and leaving the
// choice to it picks tiny groups), never more than the work.
func peakLocal(maxWG, n int) []int {
	l := 256
	if maxWG > 0 && maxWG < l {
		l = maxWG
	}
	return []int{max(1, min(l, n))}
}

// timeKernel runs kernel function name over global (rounded up to whole
// work-groups of peakLocal; the kernels bounds-check), waits, and returns its device time in nanoseconds from
// the profiling event. It does not touch KernelTimes' accounting.
func (d *Device) timeKernel(name string, global []int, args ...any) (int64, error) {
	k, ok := d.kernels[name]
	if !ok {
		return 0, fmt.Errorf("opencl: program has no kernel function %q", name)
	}
	for i, a := range args {
		if err := setArg(k, i, a); err != nil {
			return 0, fmt.Errorf("opencl: %s argument %d (%T): %w", name, i, a, err)
		}
	}
	local := peakLocal(d.maxWG[name], global[0])
	g := []int{(global[0] + local[0] - 1) / local[0] * local[0]}
	ev, err := d.queue.EnqueueNDRangeKernel(k, nil, g, local, nil)
	if err != nil {
		ev.Release()
		return 0, fmt.Errorf("opencl: %s global=%v: %w", name, global, wrapCL("clEnqueueNDRangeKernel", err))
	}
	defer ev.Release()
	if err := cl.WaitForEvents([]*cl.Event{ev}); err != nil {
		return 0, fmt.Errorf("opencl: %s: %w", name, wrapCL("clWaitForEvents", err))
	}
	start, err1 := ev.GetEventProfilingInfo(cl.ProfilingInfoCommandStart)
	end, err2 := ev.GetEventProfilingInfo(cl.ProfilingInfoCommandEnd)
	if err := firstErr(err1, err2); err != nil {
		return 0, fmt.Errorf("opencl: timing %s: %w", name, wrapCL("clGetEventProfilingInfo", err))
	}
	return end - start, nil
}
