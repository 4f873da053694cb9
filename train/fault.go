package train

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crossgrad/crossgrad/backend"
)

// ErrStalled is the cause of a DeviceError whose device call did not return
// within the stall timeout (Options.StallTimeout): the failure kind
// backend.ErrStalled.
var ErrStalled = backend.ErrStalled

// DeviceError is a device or driver failure that ended training: a kernel
// that failed to build or launch, a lost device, an allocation that failed
// mid-run, or a call that never returned (ErrStalled). It names the device,
// the kernel and the last checkpoint written, from which the run resumes.
// No checkpoint is written after a device failure: the device's results
// can no longer be trusted.
type DeviceError struct {
	Device   string         // "name (backend:index)"
	Op       string         // device call that failed: alloc, write, read, dispatch or sync
	Kernel   backend.Kernel // the failing dispatch's kernel, or the last kernel queued before the call
	InKernel bool           // Kernel is the failing dispatch itself
	Phase    string         // "resume", "training", "evaluation" or "checkpoint"
	// Step, Epoch and Batch locate the failure: the step in progress
	// (1-based), its epoch (1-based) and batch (0-based).
	Step, Epoch, Batch int
	Checkpoint         string        // last checkpoint written or resumed from ("" when none)
	Dir                string        // run folder
	Stalled            time.Duration // how long the call ran before the watchdog gave up (0: it returned an error)
	Memory             string        // the plan's memory and a batch size that needs less, when out of memory
	Err                error         // the device's error, or ErrStalled
}

// Error names the device, the call and kernel, the cause and the checkpoint
// to resume from.
func (e *DeviceError) Error() string {
	var b strings.Builder
	switch e.Phase {
	case "evaluation":
		fmt.Fprintf(&b, "train: evaluation after epoch %d (step %d) failed on %s", e.Epoch, e.Step-1, e.Device)
	case "resume":
		fmt.Fprintf(&b, "train: loading the checkpoint to resume from onto %s failed", e.Device)
	case "checkpoint":
		fmt.Fprintf(&b, "train: saving the checkpoint of step %d failed on %s", e.Step-1, e.Device)
	default:
		fmt.Fprintf(&b, "train: step %d (epoch %d, batch %d) failed on %s", e.Step, e.Epoch, e.Batch, e.Device)
	}
	switch {
	case e.InKernel:
		fmt.Fprintf(&b, " in kernel %s", e.Kernel)
	case e.Kernel != "":
		fmt.Fprintf(&b, " in %s after kernel %s was queued", e.Op, e.Kernel)
	default:
		fmt.Fprintf(&b, " in %s", e.Op)
	}
	if e.Stalled > 0 {
		fmt.Fprintf(&b, ": the %s call did not return within %v; the driver or device hangs and was abandoned", e.Op, e.Stalled.Round(time.Millisecond))
	} else {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Memory != "" {
		b.WriteString("; out of device memory: " + e.Memory)
	}
	if e.Checkpoint != "" {
		fmt.Fprintf(&b, "; last checkpoint written: %s (resume with: crossgrad train --resume %s)", e.Checkpoint, e.Dir)
	} else {
		b.WriteString("; no checkpoint was written, nothing to resume from")
	}
	return b.String()
}

// Unwrap returns the device's error (ErrStalled for a stall).
func (e *DeviceError) Unwrap() error { return e.Err }

// deviceError turns err into a *DeviceError when a device call failed
// during the run; other errors, NaN reports and interruptions are returned
// unchanged.
func (r *run) deviceError(err error) error {
	var ne *NonFiniteError
	if err == nil || errors.As(err, &ne) {
		return err
	}
	op, f := r.failedOp()
	if f == nil {
		return err
	}
	e := r.faultAt(op, f.op, f.kernel, f.inCall)
	e.Err = f.err
	if errors.Is(f.err, backend.ErrOutOfMemory) {
		// The plan fitted but the driver needed more: advise the batch
		// whose batch-dependent buffers take half of what they take now.
		lo := op.Plan.Layout()
		e.Memory = lo.MemoryAdvice(lo.FixedBytes() + (lo.Bytes()-lo.FixedBytes())/2)
	}
	return e
}

// faultAt fills a DeviceError of the device of op with the run's position.
func (r *run) faultAt(op *Opened, call string, kernel backend.Kernel, inCall bool) *DeviceError {
	return &DeviceError{Device: DeviceName(op.Dev.Info()), Op: call, Kernel: kernel, InKernel: inCall, Phase: r.phase,
		Step: r.step + 1, Epoch: r.epoch + 1, Batch: r.batch,
		Checkpoint: r.lastCkpt, Dir: r.cfg.CheckpointDir}
}
