package vulkan

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

var _ backend.Peaker = (*Device)(nil)

// peakKernel is the key the peak passes are timed under; timePeak removes
// it from the kernel times again, so KernelTimes never reports it.
const peakKernel backend.Kernel = "peak (bench)"

// peakFMAPush and peakCopyPush are the push-constant blocks of
// shaders/vulkan/peak_fma.comp and peak_copy.comp.
type peakFMAPush struct {
	N, Iters uint32
	A, B     float32
}

type peakCopyPush struct{ N4 uint32 }

// peakFlopsPerElem is peak_fma's FLOPs per element and round: 8 vec4
// chains, 4 FMAs each, 2 FLOPs per FMA lane.
const peakFlopsPerElem = 2 * 4 * 8 * 4

// PeakFMA runs peak_fma over n elements of iters rounds and returns its
// throughput in GFLOP/s from timestamp queries. It waits for queued work
// first and for the kernel.
func (d *Device) PeakFMA(n, iters int) (float64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return 0, err
	}
	if n < 1 || iters < 1 || n > backend.MaxElements || iters > 1<<30 {
		return 0, fmt.Errorf("vulkan: peak fma: n %d and iters %d must be positive (n <= %d, iters <= 2^30)", n, iters, backend.MaxElements)
	}
	out, err := d.allocLocked(n, true)
	if err != nil {
		return 0, fmt.Errorf("vulkan: peak fma: %w", err)
	}
	defer d.releaseLocked(out)
	p := &pass{module: "peak_fma", spec: []uint32{d.wg1()}, groups: d.groups1D(n),
		push:  pushBytes(peakFMAPush{N: uint32(n), Iters: uint32(iters), A: 0.999, B: 0.001}),
		binds: []binding{{b: out, elems: n, write: true}}}
	ns, err := d.timePeak(p)
	if err != nil || ns <= 0 {
		return 0, err
	}
	return peakFlopsPerElem * float64(n) * float64(iters) / float64(ns), nil
}

// PeakCopy copies nbytes (rounded down to whole vec4s) between two internal
// buffers, twice untimed (one copy each way: every page of both written
// once) and once timed, and returns (read + written bytes) / device time in
// GB/s.
func (d *Device) PeakCopy(nbytes int) (float64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return 0, err
	}
	n4 := nbytes / 16
	if n4 < 1 || uint64(n4)*16 > d.info.MaxAlloc || 4*n4 > backend.MaxElements {
		return 0, fmt.Errorf("vulkan: peak copy of %d bytes: want 16 bytes to the largest allocation (%d)", nbytes, d.info.MaxAlloc)
	}
	var bufs [2]*Buffer
	for i := range bufs {
		b, err := d.allocLocked(4*n4, true)
		if err != nil {
			return 0, fmt.Errorf("vulkan: peak copy: %w", err)
		}
		defer d.releaseLocked(b)
		bufs[i] = b
	}
	copyPass := func(src, dst *Buffer) *pass {
		return &pass{module: "peak_copy", spec: []uint32{d.wg1()}, groups: d.groups1D(n4),
			push:  pushBytes(peakCopyPush{N4: uint32(n4)}),
			binds: []binding{{b: src, elems: 4 * n4}, {b: dst, elems: 4 * n4, write: true}}}
	}
	if _, err := d.timePeak(copyPass(bufs[0], bufs[1]), copyPass(bufs[1], bufs[0])); err != nil {
		return 0, err
	}
	ns, err := d.timePeak(copyPass(bufs[0], bufs[1]))
	if err != nil || ns <= 0 {
		return 0, err
	}
	return 2 * 16 * float64(n4) / float64(ns), nil
}

// timePeak waits for queued work, records passes as one timed dispatch,
// waits for it and returns its device time in nanoseconds. d.mu is held.
func (d *Device) timePeak(passes ...*pass) (int64, error) {
	if d.rec.tsMask == 0 {
		return 0, fmt.Errorf("vulkan: %s has no timestamp support on its compute queue", d.info.Name)
	}
	if err := d.waitAll(); err != nil {
		return 0, err
	}
	delete(d.times, peakKernel)
	if err := d.record(peakKernel, passes); err != nil {
		return 0, err
	}
	if err := d.waitAll(); err != nil {
		return 0, err
	}
	t := d.times[peakKernel]
	delete(d.times, peakKernel)
	return t.Nanos, nil
}
