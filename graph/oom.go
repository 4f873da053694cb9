package graph

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// AllocError is an allocation that failed while a Plan was being created
// (typically out of device memory although the size check passed: other
// processes, driver overhead or fragmentation). Its message names the buffer
// and its size, what was already allocated, the plan's largest buffers and
// the largest batch size whose whole plan is no bigger than what the device
// did allocate.
type AllocError struct {
	Device    string     // device name
	Buffer    BufferSpec // the buffer that failed
	Index     int        // its position among the plan's buffers
	Allocated uint64     // bytes allocated before the failure
	Layout    *Layout    // the plan being allocated
	Err       error      // the device's error
}

// Error describes the failure and what would fit.
func (e *AllocError) Error() string {
	lo := e.Layout
	return fmt.Sprintf("graph: allocating %s (%s, buffer %d of %d) on %s failed after %s in %d buffers were allocated: %v; %s",
		e.Buffer.Name, MiB(e.Buffer.Bytes()), e.Index+1, len(lo.Buffers), e.Device, MiB(e.Allocated), e.Index, e.Err,
		lo.MemoryAdvice(e.Allocated))
}

// Unwrap returns the device's error.
func (e *AllocError) Unwrap() error { return e.Err }

// MemoryAdvice says how much memory the plan needs, names its three largest
// buffers and the largest batch size whose plan needs at most budget bytes
// (for a device that ran out of memory after budget bytes).
func (lo *Layout) MemoryAdvice(budget uint64) string {
	var big []string
	for _, b := range lo.Largest(3) {
		big = append(big, fmt.Sprintf("%s %s", b.Name, MiB(b.Bytes())))
	}
	msg := fmt.Sprintf("the plan for batch %d needs %s in %d buffers; largest buffers: %v", lo.Batch, MiB(lo.Bytes()), len(lo.Buffers), big)
	if budget == 0 {
		return msg + "; the device could not allocate even the first buffer (is it out of memory already, or used by another process?)"
	}
	if b := lo.FitBatch(backend.Info{GlobalMemory: budget}); b > 0 {
		return fmt.Sprintf("%s; batch size %d needs at most %s (set batch_size, --batch-size)", msg, b, MiB(budget))
	}
	return fmt.Sprintf("%s; no batch size needs less than %s (parameters and Adam state alone need %s): use a device with more memory or a smaller width/input_size",
		msg, MiB(budget), MiB(lo.fixedBytes()))
}

// FixedBytes is the memory of the buffers whose size does not depend on the
// batch: parameters, their gradients and the Adam state.
func (lo *Layout) FixedBytes() uint64 { return lo.fixedBytes() }
