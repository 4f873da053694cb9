package testutil

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// ErrFakeOutOfMemory is what FakeDevice's failing allocations return unless
// AllocErr is set; it wraps backend.ErrOutOfMemory and reads
// "fake: out of device memory".
var ErrFakeOutOfMemory = fmt.Errorf("fake: %w", backend.ErrOutOfMemory)

// FakeDevice wraps Device (which it does not own: Close is passed through),
// reporting Reported instead of the real Info when Reported is set and
// failing allocation number FailAlloc (counting from 1) and every later one;
// FailAlloc 0 never fails. Allocs counts the allocations that succeeded.
// It is not safe for concurrent use.
type FakeDevice struct {
	backend.Device
	Reported  *backend.Info
	FailAlloc int
	AllocErr  error
	Allocs    int
}

// Info returns *Reported when it is set, else the wrapped device's Info.
func (d *FakeDevice) Info() backend.Info {
	if d.Reported != nil {
		return *d.Reported
	}
	return d.Device.Info()
}

// Alloc fails with AllocErr (ErrFakeOutOfMemory when nil) once Allocs
// allocations succeeded and the next one is number FailAlloc or later;
// otherwise it allocates n elements on the wrapped device.
func (d *FakeDevice) Alloc(n int) (backend.Buffer, error) {
	if d.FailAlloc > 0 && d.Allocs+1 >= d.FailAlloc {
		if d.AllocErr != nil {
			return nil, d.AllocErr
		}
		return nil, ErrFakeOutOfMemory
	}
	d.Allocs++
	return d.Device.Alloc(n)
}

// CountingDevice wraps Device and counts the calls that cross to it: Reads,
// Writes, Syncs and Dispatches (successful or not). Tests may reset the
// counters at any time. It is not safe for concurrent use.
type CountingDevice struct {
	backend.Device
	Reads, Writes, Syncs, Dispatches int
}

// Read counts the call and reads from the wrapped device.
func (d *CountingDevice) Read(src backend.Buffer, off int, dst []float32) error {
	d.Reads++
	return d.Device.Read(src, off, dst)
}

// Write counts the call and writes to the wrapped device.
func (d *CountingDevice) Write(dst backend.Buffer, off int, src []float32) error {
	d.Writes++
	return d.Device.Write(dst, off, src)
}

// Sync counts the call and syncs the wrapped device.
func (d *CountingDevice) Sync() error {
	d.Syncs++
	return d.Device.Sync()
}

// Dispatch counts the call and dispatches p on the wrapped device.
func (d *CountingDevice) Dispatch(p backend.Params, bufs ...backend.Buffer) error {
	d.Dispatches++
	return d.Device.Dispatch(p, bufs...)
}
