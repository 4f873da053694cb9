package train

import (
	"context"
	"time"

	"github.com/crossgrad/crossgrad/backend"
)

// Stall limits of the automatic watchdog (Options.StallTimeout == 0).
const (
	// DefaultStallTimeout is the least time a single device call may take
	// before the watchdog gives up on the device.
	DefaultStallTimeout = 10 * time.Minute
	// stallFactor raises the limit to this multiple of the longest call
	// seen, for slow CPU devices at large sizes.
	stallFactor = 20
)

// stallLimit is the current limit of one device call.
func (r *run) stallLimit() time.Duration {
	if t := r.opts.StallTimeout; t > 0 {
		return t
	}
	return max(DefaultStallTimeout, stallFactor*r.longestCall())
}

// supervise runs the training loop on its own goroutine and watches its
// device calls. Backends bound their own waits where the API allows it
// (Vulkan fences); this watchdog is the bound for the others (a blocking
// clFinish or clEnqueueReadBuffer cannot be timed out). When one call runs
// longer than stallLimit, supervise returns at once a *DeviceError wrapping
// ErrStalled that names the device, the call, the last kernel queued and
// the last checkpoint, with the Result at that moment. The device is
// abandoned: its goroutine stays blocked in the driver and, should the call
// ever return, every further call fails and the goroutine closes the
// metrics file and the devices. A non-nil stall Result reports that case;
// the caller must then not touch r.op, r.mw or r's fields.
func (r *run) supervise(ctx context.Context) (*Result, error) {
	finish := func() error { return r.deviceError(r.loop(ctx)) }
	if r.opts.StallTimeout < 0 {
		return nil, finish()
	}
	done := make(chan error, 1)
	go func() { done <- finish() }()
	tick := time.NewTicker(min(time.Second, max(r.stallLimit()/10, time.Millisecond)))
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return nil, err
		case <-tick.C:
			var e *DeviceError
			var res *Result
			for _, op := range r.ops {
				if op.probe.stalled(r.stallLimit(), func(call string, kernel backend.Kernel, d time.Duration) {
					e = r.faultAt(op, call, kernel, false)
					e.Stalled, e.Err = d, ErrStalled
					res = r.result()
				}) {
					go func() { // release what the loop holds if its call ever returns
						<-done
						_ = r.mw.close()
						_ = closeAll(r.ops)
					}()
					return res, e
				}
			}
		}
	}
}
