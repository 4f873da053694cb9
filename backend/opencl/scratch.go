package opencl

import (
	"fmt"

	cl "github.com/jgillich/go-opencl/cl"
)

// scratchBuffer returns a device-owned scratch buffer of at least n
// elements, grown on demand and kept until Close, so kernels that need
// temporary storage (split-K partial sums) allocate nothing per step. The
// in-order queue makes reuse by consecutive dispatches safe.
func (d *Device) scratchBuffer(n int) (*Buffer, error) {
	if d.scratch != nil && d.scratch.n >= n {
		return d.scratch, nil
	}
	d.releaseScratch()
	mem, err := d.ctx.CreateEmptyBuffer(cl.MemReadWrite, 4*n)
	if err != nil {
		return nil, fmt.Errorf("opencl: scratch buffer of %d elements (%d bytes): %w", n, 4*n, wrapCL("clCreateBuffer", err))
	}
	d.scratch = &Buffer{dev: d, mem: mem, n: n}
	return d.scratch, nil
}

func (d *Device) releaseScratch() {
	if d.scratch != nil {
		d.scratch.mem.Release()
		d.scratch = nil
	}
}
