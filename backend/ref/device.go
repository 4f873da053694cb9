// Package ref is crossgrad's pure-Go reference backend: the readable
// definition of every kernel of backend.Kernels() and the oracle the
// conformance suite compares the GPU backends against. Kernels run
// synchronously on the CPU with float64 accumulation; the kernel functions
// are also exported on plain slices (Conv2DFwd, Gemm, ...; Run is the checked
// entry point).
package ref

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crossgrad/crossgrad/backend"
)

func init() { backend.Register("ref", 9, refBackend{}) }

// refBackend is the registered backend with its single device.
type refBackend struct{}

// Devices implements backend.Backend: exactly one reference device.
func (refBackend) Devices() ([]backend.Info, error) { return []backend.Info{deviceInfo()}, nil }

// Open implements backend.Backend.
func (refBackend) Open(index int) (backend.Device, error) {
	if index != 0 {
		return nil, fmt.Errorf("ref: no device %d (the reference backend has only device 0)", index)
	}
	return New(), nil
}

// errClosed is returned by every call on a closed Device.
var errClosed = fmt.Errorf("ref: %w", backend.ErrClosed)

// Device is the reference device. Buffers are Go []float32 slices owned by
// the device; Dispatch runs the kernel before returning. It implements
// backend.Device, backend.BufferCounter and backend.KernelTimer (wall time of
// each kernel). Its methods may be called from several goroutines, but
// dispatches are serialised.
type Device struct {
	mu     sync.Mutex
	info   backend.Info
	live   map[*Buffer]struct{}
	used   uint64 // bytes of the live buffers
	times  map[backend.Kernel]backend.KernelTime
	closed bool
}

// Buffer is a float32 allocation of a reference Device.
type Buffer struct {
	dev  *Device
	n    int
	data []float32 // nil once released
}

// New opens a reference device whose memory is the machine's (MemTotal).
// The caller owns it and must Close it.
func New() *Device { return newDevice(deviceInfo()) }

// NewWithMemory opens a reference device with bytes of memory: Alloc fails
// with backend.ErrOutOfMemory once its live buffers would exceed it. Tests
// use it to run out of memory on real code paths.
func NewWithMemory(bytes uint64) *Device {
	info := deviceInfo()
	info.GlobalMemory = bytes
	info.MaxAlloc = min(info.MaxAlloc, bytes)
	return newDevice(info)
}

func newDevice(info backend.Info) *Device {
	return &Device{info: info, live: map[*Buffer]struct{}{}, times: map[backend.Kernel]backend.KernelTime{}}
}

var _ interface {
	backend.Device
	backend.BufferCounter
	backend.KernelTimer
} = (*Device)(nil)

// Info implements backend.Device.
func (d *Device) Info() backend.Info { return d.info }

// Alloc implements backend.Device: a buffer of n > 0 elements, filled with
// NaN so that reading never-written memory shows in results. A buffer over
// Info().MaxAlloc, or one that would take the live buffers over
// Info().GlobalMemory, fails with backend.ErrOutOfMemory.
func (d *Device) Alloc(n int) (backend.Buffer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, errClosed
	}
	if n <= 0 || n > backend.MaxElements {
		return nil, fmt.Errorf("ref: alloc of %d elements: size must be in [1, %d]", n, backend.MaxElements)
	}
	bytes := uint64(n) * 4
	switch {
	case bytes > d.info.MaxAlloc:
		return nil, fmt.Errorf("ref: alloc of %d elements (%d bytes): over the device's largest allocation of %d bytes: %w",
			n, bytes, d.info.MaxAlloc, backend.ErrOutOfMemory)
	case d.used+bytes > d.info.GlobalMemory:
		return nil, fmt.Errorf("ref: alloc of %d elements (%d bytes): %d of the device's %d bytes are in use: %w",
			n, bytes, d.used, d.info.GlobalMemory, backend.ErrOutOfMemory)
	}
	d.used += bytes
	data := make([]float32, n)
	nan := float32(math.NaN())
	for i := range data {
		data[i] = nan
	}
	b := &Buffer{dev: d, n: n, data: data}
	d.live[b] = struct{}{}
	return b, nil
}

// own returns the slice of b after checking it belongs to d and is live.
// d.mu must be held.
func (d *Device) own(op string, b backend.Buffer) ([]float32, error) {
	rb, ok := b.(*Buffer)
	if !ok || rb == nil {
		return nil, fmt.Errorf("ref %s: buffer %T does not belong to the reference device", op, b)
	}
	if rb.dev != d {
		return nil, fmt.Errorf("ref %s: buffer belongs to another reference device", op)
	}
	if rb.data == nil {
		return nil, fmt.Errorf("ref %s: buffer was released", op)
	}
	return rb.data, nil
}

// Write implements backend.Device.
func (d *Device) Write(dst backend.Buffer, offset int, src []float32) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errClosed
	}
	data, err := d.own("write", dst)
	if err != nil {
		return err
	}
	if err := backend.CheckRange("ref write", len(data), offset, len(src)); err != nil {
		return err
	}
	copy(data[offset:], src)
	return nil
}

// Read implements backend.Device.
func (d *Device) Read(src backend.Buffer, offset int, dst []float32) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errClosed
	}
	data, err := d.own("read", src)
	if err != nil {
		return err
	}
	if err := backend.CheckRange("ref read", len(data), offset, len(dst)); err != nil {
		return err
	}
	copy(dst, data[offset:])
	return nil
}

// Dispatch implements backend.Device: it checks p and bufs with
// backend.CheckDispatch, then runs the kernel synchronously. The same buffer
// may be passed twice only where backend.MayShare allows it.
func (d *Device) Dispatch(p backend.Params, bufs ...backend.Buffer) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errClosed
	}
	if err := backend.CheckDispatch(p, bufs); err != nil {
		return err
	}
	k := p.Kernel()
	slices := make([][]float32, len(bufs))
	for i, b := range bufs {
		data, err := d.own("dispatch "+string(k), b)
		if err != nil {
			return fmt.Errorf("%w (buffer %d)", err, i)
		}
		slices[i] = data
	}
	start := time.Now()
	if err := Run(p, slices...); err != nil {
		return err
	}
	t := d.times[k]
	t.Nanos += time.Since(start).Nanoseconds()
	t.Count++
	d.times[k] = t
	return nil
}

// Sync implements backend.Device; execution is synchronous, so it only
// reports a closed device.
func (d *Device) Sync() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errClosed
	}
	return nil
}

// Close implements backend.Device: it releases every buffer. It is
// idempotent; afterwards every other call returns an error.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for b := range d.live {
		b.data = nil
	}
	clear(d.live)
	d.used = 0
	d.closed = true
	return nil
}

// LiveBuffers implements backend.BufferCounter.
func (d *Device) LiveBuffers() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.live)
}

// KernelTimes implements backend.KernelTimer: wall time per kernel since
// the previous call. The returned map is owned by the caller.
func (d *Device) KernelTimes() (map[backend.Kernel]backend.KernelTime, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, errClosed
	}
	out := d.times
	d.times = map[backend.Kernel]backend.KernelTime{}
	return out, nil
}

// Len implements backend.Buffer: the element count given to Alloc.
func (b *Buffer) Len() int { return b.n }

// Release implements backend.Buffer. It is idempotent and a no-op after the
// device is closed.
func (b *Buffer) Release() {
	d := b.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, live := d.live[b]; live {
		d.used -= uint64(b.n) * 4
		delete(d.live, b)
	}
	b.data = nil
}

// deviceInfo describes the reference device of this machine.
func deviceInfo() backend.Info {
	mem := totalMemory()
	return backend.Info{
		Backend: "ref", Index: 0, Vendor: "crossgrad", Type: backend.Reference,
		Name: "pure-Go reference", DriverVersion: "go" + strings.TrimPrefix(runtime.Version(), "go"),
		GlobalMemory: mem, MaxAlloc: min(mem/2, uint64(backend.MaxElements)*4),
		ComputeUnits: runtime.NumCPU(), MaxWorkGroupSize: 1, LocalMemory: 0,
	}
}

// totalMemory is MemTotal of /proc/meminfo in bytes, or 8 GiB when that
// cannot be read.
func totalMemory() uint64 {
	const fallback = 8 << 30
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return fallback
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			if err == nil && kb > 0 {
				return kb << 10
			}
		}
	}
	return fallback
}
