package backend

// Peaker is an optional Device ability: small peak kernels of the backend's
// own, outside the closed kernel list, that measure the device's ceilings
// the way clpeak does. Benchmarks report every kernel as a percentage of
// them. Both calls allocate and release their own buffers and wait for
// their work; they are timed with the device's own timers.
type Peaker interface {
	// PeakFMA runs n work items, each doing iters rounds of independent
	// fused multiply-adds, and returns the single-precision throughput in
	// GFLOP/s (an FMA counts as two FLOPs).
	PeakFMA(n, iters int) (gflops float64, err error)
	// PeakCopy copies nbytes from one device buffer to another and returns
	// the bandwidth in GB/s (10^9 bytes), counting the bytes read and the
	// bytes written (2*nbytes), as STREAM's copy does.
	PeakCopy(nbytes int) (gbps float64, err error)
}
