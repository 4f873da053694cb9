// Package backend defines the small Device interface every compute backend
// implements, the closed list of kernels with their parameter structs, and the
// registry that opens a device from a selection string such as "auto",
// "opencl:1" or "vulkan:nvidia".
package backend

// Buffer is a device allocation of float32 elements. It is owned by the
// Device that allocated it and must not be used after that Device is closed.
type Buffer interface {
	// Len is the number of float32 elements the buffer holds.
	Len() int
	// Release frees the device memory. It is idempotent.
	Release()
}

// Device is one opened compute device. Dispatches are queued and executed in
// submission order; Read and Write are ordered after all previously queued
// work. A Device is not safe for concurrent use.
//
// Failures are reported with the kinds of errors.go, tested with errors.Is,
// and every backend makes the same ones sticky:
//
//   - Invalid use (a bad size, offset or params, a foreign or released
//     buffer) has no effect and is not sticky.
//   - ErrOutOfMemory from Alloc is not sticky: nothing is allocated, the
//     buffers allocated before keep their contents and later calls work.
//   - Any other failure of the driver (queued work that fails or does not
//     finish, a failed transfer, a reset device) makes the device lost: that
//     error wraps ErrDeviceLost (besides ErrOutOfMemory or ErrStalled when the
//     driver said so), and so does every later call except Info and Close.
//     Close of a lost device releases everything without waiting.
//   - After Close, every call except Info and Close returns ErrClosed.
//
// The optional abilities (KernelTimer, BufferCounter, Peaker) follow the same
// rules; backendtest.RunContractTest checks all of them.
type Device interface {
	// Info describes the device.
	Info() Info
	// Alloc returns a new buffer of n float32 elements (contents undefined).
	Alloc(n int) (Buffer, error)
	// Write copies src into dst starting at element offset.
	Write(dst Buffer, offset int, src []float32) error
	// Read copies len(dst) elements of src starting at element offset into dst.
	// It waits for all queued work that precedes it.
	Read(src Buffer, offset int, dst []float32) error
	// Dispatch queues the kernel named by p.Kernel() with params p over bufs,
	// which must be ordered and sized as p.BufferSizes() states.
	Dispatch(p Params, bufs ...Buffer) error
	// Sync waits until all queued work has finished.
	Sync() error
	// Close releases every buffer and native object of the device, in reverse
	// order of creation. It is idempotent.
	Close() error
}

// KernelTimer is an optional Device ability: device-side execution time of
// the dispatches since the last call, per kernel, in nanoseconds.
type KernelTimer interface {
	// KernelTimes waits for queued work and returns, per kernel, the summed
	// device time and the number of dispatches since the previous call.
	KernelTimes() (map[Kernel]KernelTime, error)
}

// KernelTime is the accumulated device time of one kernel.
type KernelTime struct {
	Nanos int64
	Count int
}

// BufferCounter is an optional Device ability reporting how many buffers are
// currently allocated; tests use it to prove nothing leaks.
type BufferCounter interface {
	// LiveBuffers is the number of allocated, not yet released buffers.
	LiveBuffers() int
}
