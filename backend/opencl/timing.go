package opencl

import (
	"fmt"

	"github.com/jgillich/go-opencl/cl"

	"github.com/crossgrad/crossgrad/backend"
)

// pendingEvent is the profiling event of one timed dispatch.
type pendingEvent struct {
	kernel backend.Kernel
	ev     *cl.Event
}

// maxPending bounds the events held between collections.
const maxPending = 4096

// EnableTiming turns on per-kernel device timing (on also after the first
// KernelTimes call). Untimed dispatches keep no events.
func (d *Device) EnableTiming() {
	if d.times == nil {
		d.times = map[backend.Kernel]backend.KernelTime{}
	}
	d.timing = true
}

// KernelTimes waits for queued work and returns, per kernel, the summed
// device time and number of dispatches since the previous call (or since
// EnableTiming). The first call also turns timing on, so it returns the
// dispatches timed so far, possibly none.
func (d *Device) KernelTimes() (map[backend.Kernel]backend.KernelTime, error) {
	if err := d.usable(); err != nil {
		return nil, err
	}
	d.EnableTiming()
	if err := finishQueue(d.queue); err != nil {
		return nil, d.fail(fmt.Errorf("opencl: kernel times: %w", wrapCL("clFinish", err)))
	}
	err := d.collect()
	out := d.times
	d.times = map[backend.Kernel]backend.KernelTime{}
	return out, err
}

// track keeps ev for timing, or releases it at once when timing is off.
func (d *Device) track(k backend.Kernel, ev *cl.Event) {
	if !d.timing {
		ev.Release()
		return
	}
	d.pending = append(d.pending, pendingEvent{k, ev})
	if len(d.pending) >= maxPending {
		// Bounded memory: wait and fold; errors resurface at the next collect.
		if d.queue.Finish() == nil {
			_ = d.collect()
		}
	}
}

// collect folds the pending events, all complete (the caller waited), into
// d.times and releases them.
func (d *Device) collect() error {
	var first error
	for _, p := range d.pending {
		start, err1 := p.ev.GetEventProfilingInfo(cl.ProfilingInfoCommandStart)
		end, err2 := p.ev.GetEventProfilingInfo(cl.ProfilingInfoCommandEnd)
		p.ev.Release()
		if err := firstErr(err1, err2); err != nil {
			if first == nil {
				first = fmt.Errorf("opencl: timing %s: %w", p.kernel, wrapCL("clGetEventProfilingInfo", err))
			}
			continue
		}
		t := d.times[p.kernel]
		t.Nanos += end - start
		t.Count++
		d.times[p.kernel] = t
	}
	clear(d.pending)
	d.pending = d.pending[:0]
	return first
}

// dropEvents releases pending events without reading them.
func (d *Device) dropEvents() {
	for _, p := range d.pending {
		p.ev.Release()
	}
	d.pending = nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// LiveObjects is the number of OpenCL objects d holds: buffers (allocated
// and internal: resize tables, scratch), profiling events not yet
// collected, kernels, the program, the queue and the context. It is 0 after
// Close. Tests use it, with LiveBuffers, to prove nothing leaks.
func (d *Device) LiveObjects() int {
	if d == nil {
		return 0
	}
	n := len(d.buffers) + len(d.pil) + len(d.pending) + len(d.kernels)
	if d.scratch != nil {
		n++
	}
	for _, o := range []bool{d.program != nil, d.queue != nil, d.ctx != nil} {
		if o {
			n++
		}
	}
	return n
}
