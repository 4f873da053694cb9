package bench

import (
	"time"

	"github.com/crossgrad/crossgrad/backend"
)

// Peak kernel sizes: work items per compute unit and bytes copied.
const (
	fmaItemsPerCUGPU = 16384
	fmaItemsPerCUCPU = 4096
	copyBytesGPU     = 256 << 20
	copyBytesCPU     = 128 << 20
	// peakTarget is the host time one PeakFMA call (three kernels) is
	// grown to before it is timed.
	peakTarget = 150 * time.Millisecond
)

// measureCeilings runs the device's peak kernels (backend.Peaker): the FMA
// kernel grown until a call takes peakTarget, then Warmup+Runs calls of
// each.
func measureCeilings(dev backend.Device, o Options) Ceilings {
	pk, ok := dev.(backend.Peaker)
	if !ok {
		return Ceilings{Err: "n/a: the " + dev.Info().Backend + " backend has no peak kernels"}
	}
	info := dev.Info()
	per := fmaItemsPerCUCPU
	nbytes := copyBytesCPU
	if isGPU(info) {
		per, nbytes = fmaItemsPerCUGPU, copyBytesGPU
	}
	cus := max(1, info.ComputeUnits)
	if isGPU(info) {
		// Vulkan reports no compute-unit count; 128 units' worth keeps any
		// GPU busy (the kernels loop over the rest).
		cus = max(cus, 128)
	}
	n := cus * per
	if info.MaxAlloc > 0 && uint64(nbytes) > info.MaxAlloc {
		nbytes = int(info.MaxAlloc)
	}
	if info.GlobalMemory > 0 && uint64(nbytes) > info.GlobalMemory/4 {
		nbytes = int(info.GlobalMemory / 4)
	}
	var c Ceilings
	iters := 16
	for {
		t0 := time.Now()
		if _, err := pk.PeakFMA(n, iters); err != nil {
			c.Err = "peak fma: " + err.Error()
			return c
		}
		if time.Since(t0) >= peakTarget || iters >= 1<<20 {
			break
		}
		iters *= 2
	}
	var fma, cp []float64
	for run := -o.Warmup; run < o.Runs; run++ {
		g, err := pk.PeakFMA(n, iters)
		if err != nil {
			c.Err = "peak fma: " + err.Error()
			return c
		}
		b, err := pk.PeakCopy(nbytes)
		if err != nil {
			c.Err = "peak copy: " + err.Error()
			return c
		}
		if run >= 0 {
			fma, cp = append(fma, g), append(cp, b)
		}
	}
	c.FMA, c.Copy = Summarize(fma), Summarize(cp)
	return c
}
