package backendtest

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// Faults are a backend's ways to make its own driver calls fail, so that
// RunContractTest goes through the backend's real failure paths. Each hook
// returns a function that makes the driver behave again. A nil hook skips the
// checks that need it.
type Faults struct {
	// FailAllocs makes dev's native allocations fail as an exhausted
	// driver's do. An Alloc of FaultElements elements must then reach the
	// driver.
	FailAllocs func(dev backend.Device) (restore func())
	// Lose makes dev's driver report its queued work failed or the device
	// lost at the next wait for queued work (a Sync after a Dispatch).
	Lose func(dev backend.Device) (restore func())
}

// FaultElements is the size of the Alloc that RunContractTest makes while
// Faults.FailAllocs is in effect (4 MiB).
const FaultElements = 1 << 20

// RunContractTest checks a backend against the failure contract of
// backend.Device and its optional abilities, each subtest on a device that
// open returns (skipped as OpenOrSkip says):
//
//	abilities      KernelTimer and Peaker, where implemented
//	closed         after Close every call returns backend.ErrClosed
//	invalid_use    refused calls change nothing and are not sticky
//	out_of_memory  an Alloc over Info().MaxAlloc, and one whose native
//	               allocation fails (Faults.FailAllocs), return
//	               backend.ErrOutOfMemory and the device keeps working
//	lost           after backend.ErrDeviceLost (Faults.Lose) every call
//	               returns it, even once the driver behaves again
//
// BufferCounter is checked by CheckRelease, which RunTest runs.
func RunContractTest(t *testing.T, open func() (backend.Device, error), f Faults) {
	t.Helper()
	withDevice := func(name string, check func(*testing.T, backend.Device)) {
		t.Run(name, func(t *testing.T) {
			dev := OpenOrSkip(t, open)
			defer func() { assert.NoError(t, dev.Close(), "close") }()
			check(t, dev)
		})
	}
	withDevice("abilities", func(t *testing.T, dev backend.Device) {
		t.Run("kernel_timer", func(t *testing.T) { checkKernelTimer(t, dev) })
		t.Run("peaker", func(t *testing.T) { checkPeaker(t, dev) })
	})
	withDevice("closed", checkClosed)
	withDevice("invalid_use", checkInvalidUse)
	withDevice("out_of_memory", func(t *testing.T, dev backend.Device) { checkOutOfMemory(t, dev, f.FailAllocs) })
	withDevice("lost", func(t *testing.T, dev backend.Device) {
		if f.Lose == nil {
			t.Skip("the backend has no way to lose its device")
		}
		checkLost(t, dev, f.Lose)
	})
}

// checkKernelTimer: per-kernel counts and times of the dispatches since the
// previous call, then nothing.
func checkKernelTimer(t *testing.T, dev backend.Device) {
	kt, ok := dev.(backend.KernelTimer)
	if !ok {
		t.Skip("not a backend.KernelTimer")
	}
	_, err := kt.KernelTimes() // resets (and turns timing on where it is optional)
	if errors.Is(err, backend.ErrUnsupported) {
		t.Skipf("no timers here: %v", err)
	}
	require.NoError(t, err)
	x := allocFilled(t, dev, 4096, 0)
	g := backend.Gemm{M: 64, N: 64, K: 64, Alpha: 1}
	bufs := make([]backend.Buffer, 3)
	for i, n := range g.BufferSizes() {
		bufs[i] = allocFilled(t, dev, n, 0.5)
	}
	for range 3 {
		require.NoError(t, dev.Dispatch(backend.Fill{N: 4096, Value: 1}, x))
		require.NoError(t, dev.Dispatch(g, bufs...))
	}
	times, err := kt.KernelTimes()
	require.NoError(t, err)
	assert.Len(t, times, 2, "%v", times)
	assert.Equal(t, 3, times[backend.KFill].Count)
	assert.Equal(t, 3, times[backend.KGemm].Count)
	assert.Positive(t, times[backend.KGemm].Nanos)
	assert.GreaterOrEqual(t, times[backend.KFill].Nanos, int64(0))
	again, err := kt.KernelTimes()
	require.NoError(t, err)
	assert.Empty(t, again, "nothing dispatched since the previous call")
	assert.Equal(t, []float32{16}, readBack(t, dev, bufs[2], 4095, 1), "timed dispatches compute as usual")
}

// checkPeaker: positive ceilings at small sizes, bad sizes refused, nothing
// left in KernelTimes or the live buffers.
func checkPeaker(t *testing.T, dev backend.Device) {
	pk, ok := dev.(backend.Peaker)
	if !ok {
		t.Skip("not a backend.Peaker")
	}
	kt, timed := dev.(backend.KernelTimer)
	if timed {
		if _, err := kt.KernelTimes(); err != nil {
			timed = false
		}
	}
	live := liveBuffers(dev)
	g, err := pk.PeakFMA(1000, 8) // not a multiple of any work-group size
	require.NoError(t, err)
	assert.Positive(t, g)
	bw, err := pk.PeakCopy(1 << 20)
	require.NoError(t, err)
	assert.Positive(t, bw)
	if timed {
		times, err := kt.KernelTimes()
		require.NoError(t, err)
		assert.Empty(t, times, "peak kernels are not accounted to the closed list")
	}
	assert.Equal(t, live, liveBuffers(dev), "peak buffers are internal and released")

	_, err = pk.PeakFMA(0, 8)
	assert.Error(t, err)
	_, err = pk.PeakFMA(10, 0)
	assert.Error(t, err)
	_, err = pk.PeakCopy(8)
	assert.Error(t, err)
	_, err = pk.PeakCopy(int(dev.Info().MaxAlloc) + 16)
	assert.Error(t, err)
}

// checkClosed: Close is idempotent, Info still answers, and every other
// call, the optional abilities included, returns backend.ErrClosed.
func checkClosed(t *testing.T, dev backend.Device) {
	x := allocFilled(t, dev, 16, 1)
	require.NoError(t, dev.Close())
	require.NoError(t, dev.Close(), "Close is idempotent")
	assert.NotEmpty(t, dev.Info().Backend, "Info answers after Close")
	requireEveryCall(t, dev, x, backend.ErrClosed)
	x.Release() // a no-op after Close
	assert.Equal(t, 0, liveBuffers(dev))
}

// checkInvalidUse: refused calls are neither lost nor closed, and the
// device and its buffers are unchanged after them.
func checkInvalidUse(t *testing.T, dev backend.Device) {
	x := allocFilled(t, dev, 16, 3)
	refused := map[string]error{
		"alloc 0":        allocErr(dev, 0),
		"alloc -1":       allocErr(dev, -1),
		"write past end": dev.Write(x, 15, []float32{1, 2}),
		"read at -1":     dev.Read(x, -1, make([]float32, 1)),
		"short buffer":   dev.Dispatch(backend.Fill{N: 17, Value: 1}, x),
		"no buffer":      dev.Dispatch(backend.Fill{N: 16, Value: 1}),
		"foreign buffer": dev.Dispatch(backend.Fill{N: 16, Value: 1}, foreignBuffer{}),
		"bad params":     dev.Dispatch(backend.Fill{N: 0, Value: 1}, x),
	}
	for name, err := range refused {
		require.Error(t, err, name)
		assert.NotErrorIs(t, err, backend.ErrDeviceLost, name)
		assert.NotErrorIs(t, err, backend.ErrClosed, name)
	}
	assert.Equal(t, []float32{3, 3, 3}, readBack(t, dev, x, 13, 3), "refused calls change nothing")
	require.NoError(t, dev.Dispatch(backend.Scale{N: 16, Alpha: 2}, x))
	require.NoError(t, dev.Sync())
	assert.Equal(t, []float32{6, 6}, readBack(t, dev, x, 14, 2), "the device works after refused calls")
}

// checkOutOfMemory: allocations the device cannot hold fail with
// backend.ErrOutOfMemory, which is not sticky.
func checkOutOfMemory(t *testing.T, dev backend.Device, failAllocs func(backend.Device) func()) {
	x := allocFilled(t, dev, 1024, 7)
	live := liveBuffers(dev)
	checked := false
	if n := dev.Info().MaxAlloc/4 + 1; dev.Info().MaxAlloc > 0 && n <= backend.MaxElements {
		err := allocErr(dev, int(n))
		require.ErrorIs(t, err, backend.ErrOutOfMemory, "Alloc of %d elements, over Info().MaxAlloc", n)
		assert.NotErrorIs(t, err, backend.ErrDeviceLost)
		checked = true
	}
	if failAllocs != nil {
		restore := failAllocs(dev)
		err := allocErr(dev, FaultElements)
		restore()
		require.ErrorIs(t, err, backend.ErrOutOfMemory, "Alloc while the driver's allocations fail")
		assert.NotErrorIs(t, err, backend.ErrDeviceLost)
		checked = true
	}
	if !checked {
		t.Skip("no allocation can fail here: Info().MaxAlloc is the largest size Alloc accepts and Faults.FailAllocs is nil")
	}
	assert.Equal(t, live, liveBuffers(dev), "failed allocations hold nothing")
	assert.Equal(t, []float32{7, 7}, readBack(t, dev, x, 1022, 2), "earlier buffers keep their contents")
	y := allocFilled(t, dev, FaultElements, 0)
	require.NoError(t, dev.Dispatch(backend.Fill{N: FaultElements, Value: 5}, y))
	assert.Equal(t, []float32{5}, readBack(t, dev, y, FaultElements-1, 1), "the device works after running out of memory")
	y.Release()
}

// checkLost: once the driver reports the device lost, every call returns
// backend.ErrDeviceLost, also after the driver behaves again, and Close
// still releases everything.
func checkLost(t *testing.T, dev backend.Device, lose func(backend.Device) func()) {
	x := allocFilled(t, dev, 16, 1)
	require.NoError(t, dev.Dispatch(backend.Scale{N: 16, Alpha: 2}, x))
	restore := lose(dev)
	err := dev.Sync()
	require.ErrorIs(t, err, backend.ErrDeviceLost, "Sync of work the driver lost")
	requireEveryCall(t, dev, x, backend.ErrDeviceLost)
	restore()
	requireEveryCall(t, dev, x, backend.ErrDeviceLost)
	require.NoError(t, dev.Close(), "Close of a lost device")
	assert.Equal(t, 0, liveBuffers(dev))
	requireEveryCall(t, dev, x, backend.ErrClosed)
}

// requireEveryCall asserts that every call of dev but Info and Close,
// optional abilities included, fails with kind.
func requireEveryCall(t *testing.T, dev backend.Device, x backend.Buffer, kind error) {
	t.Helper()
	calls := map[string]error{
		"alloc":    allocErr(dev, 4),
		"write":    dev.Write(x, 0, []float32{1}),
		"read":     dev.Read(x, 0, make([]float32, 1)),
		"dispatch": dev.Dispatch(backend.Fill{N: 16, Value: 1}, x),
		"sync":     dev.Sync(),
	}
	if kt, ok := dev.(backend.KernelTimer); ok {
		_, calls["kernel times"] = kt.KernelTimes()
	}
	if pk, ok := dev.(backend.Peaker); ok {
		_, calls["peak fma"] = pk.PeakFMA(10, 1)
		_, calls["peak copy"] = pk.PeakCopy(1 << 10)
	}
	for name, err := range calls {
		assert.ErrorIs(t, err, kind, name)
	}
}

// allocFilled allocates n elements holding v.
func allocFilled(t *testing.T, dev backend.Device, n int, v float32) backend.Buffer {
	t.Helper()
	b, err := dev.Alloc(n)
	require.NoError(t, err, "alloc %d", n)
	vals := make([]float32, n)
	for i := range vals {
		vals[i] = v
	}
	require.NoError(t, dev.Write(b, 0, vals))
	return b
}

// readBack reads n elements of b from offset.
func readBack(t *testing.T, dev backend.Device, b backend.Buffer, offset, n int) []float32 {
	t.Helper()
	out := make([]float32, n)
	require.NoError(t, dev.Read(b, offset, out))
	return out
}

// allocErr is Alloc's error, releasing the buffer of an Alloc that works.
func allocErr(dev backend.Device, n int) error {
	b, err := dev.Alloc(n)
	if err == nil {
		b.Release()
	}
	return err
}

// liveBuffers is LiveBuffers of a backend.BufferCounter, else 0.
func liveBuffers(dev backend.Device) int {
	if c, ok := dev.(backend.BufferCounter); ok {
		return c.LiveBuffers()
	}
	return 0
}

// foreignBuffer is a buffer no device allocated.
type foreignBuffer struct{}

func (foreignBuffer) Len() int { return 16 }
func (foreignBuffer) Release() {}
