package opencl

import (
	"errors"
	"fmt"

	"github.com/jgillich/go-opencl/cl"

	"github.com/crossgrad/crossgrad/backend"
)

// Device is one opened OpenCL device: a context, an in-order command queue
// with profiling enabled, and the program holding every kernel, built once
// at Open (the tiled kernels: once per tiling, when first launched). It
// implements backend.Device, backend.KernelTimer, backend.BufferCounter and
// backend.Tuner.
// It owns every Buffer it allocates; Close releases them all. A Device is
// not safe for concurrent use.
type Device struct {
	info     backend.Info
	dev      *cl.Device
	ctx      *cl.Context
	queue    *cl.CommandQueue
	program  *cl.Program
	kernels  map[string]*cl.Kernel
	maxWG    map[string]int // CL_KERNEL_WORK_GROUP_SIZE of each kernel
	maxItems []int          // CL_DEVICE_MAX_WORK_ITEM_SIZES
	// vecFloats is CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT (the tuner's
	// register model of CPU bodies, see spill).
	vecFloats int
	buffers   map[*Buffer]struct{}
	pil       map[[2]int]pilTable // resize_bilinear tap tables by (in, out)
	scratch   *Buffer             // temporary storage of split kernels, see scratchBuffer
	lost      error               // sticky: the device is unusable, see fail
	closed    bool

	timing  bool
	pending []pendingEvent
	times   map[backend.Kernel]backend.KernelTime

	tiles         map[backend.TuneKey]tileConfig // configurations set by SetTile
	tileBuildErrs map[string]error               // failed builds of tiled kernels, by tiledKernelKey
	// trace, when set (tests), sees every queued kernel function with its
	// global size (rounded up to the work-groups) and local size.
	trace func(name string, global, local []int)
}

var (
	_ backend.Device        = (*Device)(nil)
	_ backend.KernelTimer   = (*Device)(nil)
	_ backend.BufferCounter = (*Device)(nil)
)

// errClosed is returned by every call on a closed Device.
var errClosed = fmt.Errorf("opencl: %w", backend.ErrClosed)

// usable returns the sticky error of a closed or lost device.
func (d *Device) usable() error {
	if d == nil || d.closed {
		return errClosed
	}
	return d.lost
}

// fail marks the device lost after a failure of the driver (see the
// contract of backend.Device) and returns the error every later call
// returns.
func (d *Device) fail(err error) error {
	d.lost = backend.WithKind(backend.ErrDeviceLost, fmt.Errorf("opencl: device %s unusable: %w", d.info.ID(), err))
	return d.lost
}

// Info describes the device (MaxWorkGroupSize and LocalMemory bound the
// work-group tiles a launcher may pick).
func (d *Device) Info() backend.Info { return d.info }

// Alloc returns a new read-write device buffer of n float32 elements with
// undefined contents, owned by d.
func (d *Device) Alloc(n int) (backend.Buffer, error) {
	if err := d.usable(); err != nil {
		return nil, err
	}
	if n <= 0 || n > backend.MaxElements {
		return nil, fmt.Errorf("opencl: alloc of %d elements: size must be in [1, %d]", n, backend.MaxElements)
	}
	bytes := uint64(n) * 4
	if d.info.MaxAlloc > 0 && bytes > d.info.MaxAlloc {
		return nil, fmt.Errorf("opencl: alloc of %d elements (%d bytes) on %s: over the device's largest allocation of %d bytes: %w",
			n, bytes, d.info.Name, d.info.MaxAlloc, backend.ErrOutOfMemory)
	}
	mem, err := createBuffer(d.ctx, cl.MemReadWrite, int(bytes))
	if err != nil {
		return nil, fmt.Errorf("opencl: alloc of %d elements (%d bytes) on %s: %w", n, bytes, d.info.Name, wrapCL("clCreateBuffer", err))
	}
	b := &Buffer{dev: d, mem: mem, n: n}
	d.buffers[b] = struct{}{}
	return b, nil
}

// own returns b as a live *Buffer of d.
func (d *Device) own(op string, b backend.Buffer) (*Buffer, error) {
	cb, ok := b.(*Buffer)
	switch {
	case !ok || cb == nil:
		return nil, fmt.Errorf("opencl: %s: buffer %T was not allocated by an OpenCL device", op, b)
	case cb.dev != d:
		return nil, fmt.Errorf("opencl: %s: buffer belongs to another device", op)
	case cb.mem == nil:
		return nil, fmt.Errorf("opencl: %s: buffer was released", op)
	}
	return cb, nil
}

// Write copies src into dst from element offset; it blocks until the copy is
// done, so src may be reused at once. An empty src is a no-op.
func (d *Device) Write(dst backend.Buffer, offset int, src []float32) error {
	if err := d.usable(); err != nil {
		return err
	}
	b, err := d.own("write", dst)
	if err != nil {
		return err
	}
	if err := backend.CheckRange("opencl: write", b.n, offset, len(src)); err != nil {
		return err
	}
	if len(src) == 0 {
		return nil
	}
	ev, err := d.queue.EnqueueWriteBufferFloat32(b.mem, true, offset*4, src, nil)
	ev.Release()
	if err != nil {
		return d.fail(fmt.Errorf("opencl: write of %d elements at %d: %w", len(src), offset, wrapCL("clEnqueueWriteBuffer", err)))
	}
	return nil
}

// Read copies len(dst) elements of src from element offset into dst, after
// all queued work. An empty dst is a no-op.
func (d *Device) Read(src backend.Buffer, offset int, dst []float32) error {
	if err := d.usable(); err != nil {
		return err
	}
	b, err := d.own("read", src)
	if err != nil {
		return err
	}
	if err := backend.CheckRange("opencl: read", b.n, offset, len(dst)); err != nil {
		return err
	}
	if len(dst) == 0 {
		return nil
	}
	ev, err := d.queue.EnqueueReadBufferFloat32(b.mem, true, offset*4, dst, nil)
	ev.Release()
	if err != nil {
		return d.fail(fmt.Errorf("opencl: read of %d elements at %d: %w", len(dst), offset, wrapCL("clEnqueueReadBuffer", err)))
	}
	return nil
}

// Dispatch checks p and bufs with backend.CheckDispatch and queues the
// kernel p.Kernel() (a tiled one with the configuration SetTile chose for
// it, else DefaultTile's); it does not wait for it. A driver failure other
// than a refused malformed launch (CL_INVALID_*) or a failed kernel build
// makes the device lost.
func (d *Device) Dispatch(p backend.Params, bufs ...backend.Buffer) error {
	return d.dispatchWith(p, bufs, nil)
}

// clBuildProgramFailure is CL_BUILD_PROGRAM_FAILURE: a kernel that does
// not compile leaves the device usable.
const clBuildProgramFailure = -11

// dispatchWith is Dispatch running l (nil: the kernel's launcher).
func (d *Device) dispatchWith(p backend.Params, bufs []backend.Buffer, l launcher) error {
	if err := d.usable(); err != nil {
		return err
	}
	if err := backend.CheckDispatch(p, bufs); err != nil {
		return fmt.Errorf("opencl: %w", err)
	}
	k := p.Kernel()
	cbs := make([]*Buffer, len(bufs))
	for i, b := range bufs {
		cb, ok := b.(*Buffer)
		if !ok || cb == nil || cb.dev != d || cb.mem == nil {
			_, err := d.own(fmt.Sprintf("dispatch %s buffer %d", k, i), b)
			return err
		}
		cbs[i] = cb
	}
	if l == nil {
		var ok bool
		if l, ok = launchers[k]; !ok {
			return fmt.Errorf("opencl: kernel %s has no OpenCL launcher", k)
		}
	}
	err := l(d, p, cbs)
	var ce *Error
	if errors.As(err, &ce) && !ce.invalidUse() && ce.Code != clBuildProgramFailure {
		return d.fail(err)
	}
	return err
}

// Sync waits until all queued work has finished.
func (d *Device) Sync() error {
	if err := d.usable(); err != nil {
		return err
	}
	if err := finishQueue(d.queue); err != nil {
		return d.fail(fmt.Errorf("opencl: sync: %w", wrapCL("clFinish", err)))
	}
	if err := d.collect(); err != nil {
		return d.fail(err)
	}
	return nil
}

// LiveBuffers is the number of buffers of d not yet released.
func (d *Device) LiveBuffers() int { return len(d.buffers) }

// Close waits for queued work (unless the device is lost), then releases
// every buffer, the kernels, the program, the queue and the context (reverse
// order of creation). It is idempotent; every later call on d except Info
// returns an error wrapping backend.ErrClosed.
func (d *Device) Close() error {
	if d == nil || d.closed {
		return nil
	}
	var err error
	if d.queue != nil && d.lost == nil {
		if e := finishQueue(d.queue); e != nil {
			err = fmt.Errorf("opencl: close: %w", wrapCL("clFinish", e))
		}
	}
	d.dropEvents()
	for b := range d.buffers {
		b.Release()
	}
	d.releaseScratch()
	for key, t := range d.pil {
		t.mem.Release()
		delete(d.pil, key)
	}
	d.releaseNative()
	d.closed = true
	return err
}

// releaseNative releases kernels, program, queue and context; it also
// unwinds a partly opened device.
func (d *Device) releaseNative() {
	for name, k := range d.kernels {
		k.Release()
		delete(d.kernels, name)
	}
	if d.program != nil {
		d.program.Release()
		d.program = nil
	}
	if d.queue != nil {
		d.queue.Release()
		d.queue = nil
	}
	if d.ctx != nil {
		d.ctx.Release()
		d.ctx = nil
	}
}

// Buffer is a device allocation of float32 elements, owned by the Device
// that allocated it.
type Buffer struct {
	dev *Device
	mem *cl.MemObject
	n   int
}

// Len is the number of float32 elements of the buffer.
func (b *Buffer) Len() int {
	if b == nil {
		return 0
	}
	return b.n
}

// Release frees the device memory; it is idempotent. Work already queued
// that uses the buffer still completes.
func (b *Buffer) Release() {
	if b == nil || b.mem == nil {
		return
	}
	b.mem.Release()
	b.mem = nil
	delete(b.dev.buffers, b)
}
