package bench

import "fmt"

// legendHeading is the heading of the section explaining the columns.
const legendHeading = "What the figures mean"

// shown says which figures a rendered report holds, for its legend.
type shown struct {
	kernels, kernelTimes, layers, cold, ceilings, torch, mallocKept, tiles bool
}

// legend explains every column the report shows, so that a reader of the
// report alone knows what each figure is.
func (r *Report) legend() []block {
	var s shown
	for _, d := range r.Devices {
		s.kernels = s.kernels || len(d.Kernels) > 0
		s.layers = s.layers || len(d.Layers) > 0
		s.cold = s.cold || d.Cold != nil
		s.ceilings = s.ceilings || (d.Ceilings != nil && d.Ceilings.Err == "")
		s.torch = s.torch || d.VsTorch != nil
		s.tiles = s.tiles || d.hasTiles()
	}
	for _, p := range r.PyTorch {
		s.torch = true
		s.mallocKept = s.mallocKept || p.Env == MallocTunables
	}
	s.kernelTimes = s.kernels
	return s.legend()
}

func (s shown) legend() []block {
	bs := []block{{heading: legendHeading}}
	item := func(term, meaning string) {
		bs = append(bs, block{text: fmt.Sprintf("- %s: %s", term, meaning)})
	}
	item("batch", "images per training step. Every rate is at the batch shown beside it (the device's row, its section's "+
		"heading line, the table's caption); compare rates only at equal batch and input size")
	item("images/s", "training images per second of the full step as train runs it (resize, forward, loss, backward, Adam, "+
		"one read of the statistics), from the host clock")
	item("median [min-max]", "the median of the timed runs, with the fastest and slowest")
	if s.torch {
		item("vs PyTorch", "crossgrad's images/s divided by PyTorch's for the same AlexNet, batch and input size, on cuda for GPUs "+
			"and on the CPU otherwise (the faster of PyTorch's CPU runs); above 1.00x crossgrad is faster. PyTorch images/s "+
			"is that run's rate")
	}
	if s.mallocKept {
		item("pytorch cpu (malloc kept)", "PyTorch's CPU run again with "+MallocTunables+": glibc's malloc keeps freed memory "+
			"mapped instead of returning it to the kernel, so PyTorch does not re-touch fresh pages every step (2-3x faster on "+
			"machines where that is slow); \"pytorch cpu\" is the run as installed")
	}
	if s.ceilings {
		item("FMA GFLOP/s, copy GB/s", "the device's ceilings, measured by the benchmark's own peak kernels (chains of fused "+
			"multiply-adds; a plain copy of a 128-256 MB buffer, bytes read plus written): what simple kernels reach, not the "+
			"vendor's data-sheet peaks")
	}
	if s.cold {
		item("cold start ms", "open + plan + first step in a fresh process, first with every driver cache empty (cold), then "+
			"with what that run cached (warm): the wait before training starts")
	}
	if s.kernelTimes {
		item("device ms, wall ms", "one step's time in the kernel (all its calls summed), from the device's timers and from the "+
			"host clock (which adds launch and wait overhead)")
		item("GFLOP/s, GB/s", "the kernel's floating-point operations, or the bytes it must move at least (inputs read once, "+
			"outputs written once), per second of device time")
	}
	if s.kernels {
		item("% FMA", "GFLOP/s as a percentage of the device's FMA ceiling; shown for compute-bound kernels (convolutions, GEMM)")
		item("% copy", "GB/s as a percentage of the device's measured copy bandwidth ceiling, for memory-bound kernels. It can "+
			"exceed 100%: the ceiling streams a buffer far larger than any cache, so it runs at main-memory speed, while at "+
			"AlexNet's shapes a kernel's few megabytes often stay in the CPU's L2/L3 or the GPU's L2 cache from the previous "+
			"dispatch and are read faster than memory allows. Above 100% means cache-resident data, not a measuring error")
		if s.ceilings && s.kernelTimes {
			item("best conv %FMA", "the best % FMA of the device's convolution kernels")
		}
	}
	if s.tiles {
		item("default config, chosen config", "the tile configuration of a tiled kernel (gemm and the convolutions): the "+
			"backend's default at that shape, and the one it ran with, from the tuning cache or tuned before the benchmark "+
			"(tune: cached or auto; crossgrad tune fills the cache); (default) when they are the same")
	}
	if s.layers {
		item("per layer", "forward, backward and update time of each layer with a wait after every dispatch, its share of the "+
			"profiled step and its GFLOP/s; the sum exceeds the step's time by the waits")
	}
	return bs
}
