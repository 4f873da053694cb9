package train

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultyDevice wraps a device and injects driver faults once armed (tests
// arm it from Options.BeforeStep): a failing dispatch of one kernel, a lost
// device (every call fails from the first read on), a read that never
// returns; its FakeDevice fails allocations or reports a smaller device.
type faultyDevice struct {
	testutil.FakeDevice
	mu         sync.Mutex
	armed      bool
	failKernel backend.Kernel // dispatches of it fail with err when armed
	lostOnRead bool           // when armed, the first read loses the device
	lost       bool
	hang       chan struct{} // when armed, reads block until it is closed
	writesLeft int           // > 0: the device is lost at that many writes plus one
	err        error         // the injected error
	closed     bool
}

func (d *faultyDevice) arm() {
	d.mu.Lock()
	d.armed = true
	d.mu.Unlock()
}

func (d *faultyDevice) state() (armed, lost bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.armed, d.lost
}

func (d *faultyDevice) Write(dst backend.Buffer, off int, src []float32) error {
	d.mu.Lock()
	if d.writesLeft > 0 {
		if d.writesLeft--; d.writesLeft == 0 {
			d.lost = true
		}
	}
	d.mu.Unlock()
	if _, lost := d.state(); lost {
		return d.err
	}
	return d.Device.Write(dst, off, src)
}

func (d *faultyDevice) Read(src backend.Buffer, off int, dst []float32) error {
	armed, lost := d.state()
	switch {
	case lost:
		return d.err
	case armed && d.lostOnRead:
		d.mu.Lock()
		d.lost = true
		d.mu.Unlock()
		return d.err
	case armed && d.hang != nil:
		<-d.hang
	}
	return d.Device.Read(src, off, dst)
}

func (d *faultyDevice) Dispatch(p backend.Params, bufs ...backend.Buffer) error {
	armed, lost := d.state()
	if lost || (armed && p.Kernel() == d.failKernel) {
		return d.err
	}
	return d.Device.Dispatch(p, bufs...)
}

func (d *faultyDevice) Sync() error {
	if _, lost := d.state(); lost {
		return d.err
	}
	return d.Device.Sync()
}

func (d *faultyDevice) Close() error {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	return d.Device.Close()
}

func (d *faultyDevice) isClosed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closed
}

// withFault returns options wrapping the device in fd and arming it
// before step armAt.
func withFault(fd *faultyDevice, armAt int) Options {
	return Options{
		WrapDevice: func(dev backend.Device) (backend.Device, error) {
			fd.Device = dev
			return fd, nil
		},
		BeforeStep: func(step int, _ *graph.Plan) error {
			if step == armAt {
				fd.arm()
			}
			return nil
		},
	}
}

// oomError is a driver error of the kind backend.ErrOutOfMemory, as the
// OpenCL and Vulkan backends' out-of-memory errors are.
type oomError struct{}

func (oomError) Error() string { return "fake: CL_MEM_OBJECT_ALLOCATION_FAILURE (-4)" }
func (oomError) Unwrap() error { return backend.ErrOutOfMemory }

func ckptPath(dir string, step int64) string { return filepath.Join(dir, checkpoint.Name(step)) }

func TestKernelFaultNamesDeviceKernelAndCheckpoint(t *testing.T) {
	heavyOnRef(t)
	c := narrowConfig(t)
	c.CheckpointEverySteps = 2
	injected := errors.New("fake: pipeline for conv2d_bwd_filter failed to build (VK_ERROR_INITIALIZATION_FAILED)")
	fd := &faultyDevice{failKernel: backend.KConv2DBwdFilter, err: injected}
	_, _, err := runTiny(t, c, withFault(fd, 5))
	var de *DeviceError
	require.ErrorAs(t, err, &de)
	assert.ErrorIs(t, err, injected)
	assert.Equal(t, "pure-Go reference (ref:0)", de.Device)
	assert.Equal(t, backend.KConv2DBwdFilter, de.Kernel)
	assert.True(t, de.InKernel)
	assert.Equal(t, "dispatch", de.Op)
	assert.Equal(t, [3]int{5, 1, 4}, [3]int{de.Step, de.Epoch, de.Batch})
	assert.Equal(t, ckptPath(c.CheckpointDir, 4), de.Checkpoint)
	assert.Equal(t, "train: step 5 (epoch 1, batch 4) failed on pure-Go reference (ref:0) in kernel conv2d_bwd_filter: "+injected.Error()+
		"; last checkpoint written: "+de.Checkpoint+" (resume with: crossgrad train --resume "+c.CheckpointDir+")", err.Error())
	l, err := checkpoint.List(c.CheckpointDir)
	require.NoError(t, err)
	assert.Equal(t, []string{ckptPath(c.CheckpointDir, 2), ckptPath(c.CheckpointDir, 4)}, l, "nothing saved after the fault")
	assert.True(t, fd.isClosed())

	// The run resumes from that checkpoint on a working device.
	c.Resume = c.CheckpointDir
	res, _, err := runTiny(t, c, Options{})
	require.NoError(t, err)
	assert.Equal(t, 16, res.Step)
	steps, _ := readJSONL(t, c.MetricsJSONL)
	require.Len(t, steps, 16)
}

func TestDeviceLostEndsTrainingWithoutCheckpoint(t *testing.T) {
	c := narrowConfig(t)
	lost := errors.New("fake: VK_ERROR_DEVICE_LOST")
	fd := &faultyDevice{lostOnRead: true, err: lost}
	_, _, err := runTiny(t, c, withFault(fd, 3))
	var de *DeviceError
	require.ErrorAs(t, err, &de)
	assert.ErrorIs(t, err, lost)
	assert.Equal(t, "read", de.Op)
	assert.Equal(t, backend.KAdam, de.Kernel, "the step's last kernel")
	assert.False(t, de.InKernel)
	assert.Equal(t, 3, de.Step)
	assert.Empty(t, de.Checkpoint)
	assert.Contains(t, err.Error(), "failed on pure-Go reference (ref:0) in read after kernel adam was queued: fake: VK_ERROR_DEVICE_LOST")
	assert.Contains(t, err.Error(), "no checkpoint was written, nothing to resume from")
	assert.Equal(t, []string{"config.yaml", "metrics.jsonl"}, files(t, c.CheckpointDir))
	steps, _ := readJSONL(t, c.MetricsJSONL)
	assert.Len(t, steps, 2)
	assert.True(t, fd.isClosed(), "a lost device is still closed, without hanging")
}

func TestStalledCallIsBounded(t *testing.T) {
	c := narrowConfig(t)
	c.CheckpointEverySteps = 3
	fd := &faultyDevice{hang: make(chan struct{})}
	o := withFault(fd, 5)
	o.StallTimeout = 300 * time.Millisecond
	start := time.Now()
	res, _, err := runTiny(t, c, o)
	took := time.Since(start)
	var de *DeviceError
	require.ErrorAs(t, err, &de)
	assert.ErrorIs(t, err, ErrStalled)
	assert.Less(t, took, 10*time.Second)
	assert.GreaterOrEqual(t, de.Stalled, 300*time.Millisecond)
	assert.Equal(t, "read", de.Op)
	assert.Equal(t, backend.KAdam, de.Kernel)
	assert.Equal(t, 5, de.Step)
	assert.Equal(t, ckptPath(c.CheckpointDir, 3), de.Checkpoint)
	assert.Regexp(t, `^train: step 5 \(epoch 1, batch 4\) failed on pure-Go reference \(ref:0\) in read after kernel adam was queued: `+
		`the read call did not return within [0-9.]+m?s; the driver or device hangs and was abandoned; last checkpoint written: `+
		regexp.QuoteMeta(de.Checkpoint), err.Error())
	require.NotNil(t, res)
	assert.Equal(t, 4, res.Step)
	assert.Equal(t, de.Checkpoint, res.Checkpoint)

	// Should the driver ever return, the abandoned loop fails its next call
	// and releases the device; nothing more is written.
	assert.False(t, fd.isClosed())
	close(fd.hang)
	require.Eventually(t, fd.isClosed, 10*time.Second, 10*time.Millisecond)
	l, err := checkpoint.List(c.CheckpointDir)
	require.NoError(t, err)
	assert.Equal(t, []string{ckptPath(c.CheckpointDir, 3)}, l)
}

func TestOutOfMemoryMidRunSaysWhatFits(t *testing.T) {
	c := narrowConfig(t)
	fd := &faultyDevice{failKernel: backend.KGemm, err: fmt.Errorf("opencl: gemm: %w", oomError{})}
	_, _, err := runTiny(t, c, withFault(fd, 2))
	var de *DeviceError
	require.ErrorAs(t, err, &de)
	assert.ErrorIs(t, err, backend.ErrOutOfMemory)
	assert.Equal(t, backend.KGemm, de.Kernel)
	msg := err.Error()
	assert.Contains(t, msg, "in kernel gemm: opencl: gemm: fake: CL_MEM_OBJECT_ALLOCATION_FAILURE (-4); out of device memory: the plan for batch 32 needs ")
	assert.Regexp(t, `largest buffers: \[\S+ [0-9.]+ MiB \S+ `, msg)
	m := regexp.MustCompile(`batch size (\d+) needs at most`).FindStringSubmatch(msg)
	require.NotNil(t, m, msg)
	b, _ := strconv.Atoi(m[1])
	assert.Positive(t, b)
	assert.Less(t, b, 32)
}

func TestAllocFailureWhilePlanningIsReported(t *testing.T) {
	c := tinyConfig(t)
	m, err := NewModel(c)
	require.NoError(t, err)
	lo, err := graph.NewLayout(m.Sequential, m.InputShape(c.BatchSize), GraphConfig(c))
	require.NoError(t, err)
	k, sum := 0, uint64(0) // fail once 80% of the plan is allocated
	for sum < lo.Bytes()*4/5 {
		sum += lo.Buffers[k].Bytes()
		k++
	}
	fd := &faultyDevice{FakeDevice: testutil.FakeDevice{FailAlloc: k + 1, AllocErr: oomError{}}}
	_, _, err = runTiny(t, c, withFault(fd, 1))
	require.Error(t, err)
	var ae *graph.AllocError
	require.ErrorAs(t, err, &ae)
	msg := err.Error()
	assert.Contains(t, msg, "pure-Go reference (ref:0)")
	assert.Contains(t, msg, fmt.Sprintf("graph: allocating %s (%s, buffer %d of %d) on pure-Go reference failed after %s in %d buffers",
		ae.Buffer.Name, graph.MiB(ae.Buffer.Bytes()), k+1, len(lo.Buffers), graph.MiB(sum), k))
	assert.Contains(t, msg, "CL_MEM_OBJECT_ALLOCATION_FAILURE")
	assert.Contains(t, msg, "largest buffers:")
	assert.Regexp(t, `batch size \d+ needs at most`, msg)
	assert.NoDirExists(t, c.CheckpointDir, "no files on errors before training")
	assert.True(t, fd.isClosed())
}

func TestPlanTooBigForDeviceNamesBuffersAndBatch(t *testing.T) {
	c := tinyConfig(t)
	m, err := NewModel(c)
	require.NoError(t, err)
	lo, err := graph.NewLayout(m.Sequential, m.InputShape(c.BatchSize), GraphConfig(c))
	require.NoError(t, err)
	info := backend.Info{Backend: "ref", Name: "half-size device", Type: backend.Reference, GlobalMemory: lo.FixedBytes() + (lo.Bytes()-lo.FixedBytes())/2}
	fd := &faultyDevice{FakeDevice: testutil.FakeDevice{Reported: &info}}
	_, _, err = runTiny(t, c, withFault(fd, 1))
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "half-size device")
	assert.Contains(t, msg, fmt.Sprintf("plan for batch 32 needs %s", graph.MiB(lo.Bytes())))
	assert.Contains(t, msg, "largest buffers: ["+lo.Largest(1)[0].Name)
	want := lo.FitBatch(info)
	require.Positive(t, want)
	assert.Contains(t, msg, fmt.Sprintf("batch size %d would fit", want))
	assert.NoDirExists(t, c.CheckpointDir)
}

func TestBuildFailureOnResumeNamesCheckpoint(t *testing.T) {
	heavyOnRef(t)
	c := narrowConfig(t)
	c.Epochs = 1
	_, _, err := runTiny(t, c, Options{})
	require.NoError(t, err)

	c.Resume = c.CheckpointDir
	build := errors.New("opencl: building the kernels for fake GPU: clBuildProgram failed: CL_BUILD_PROGRAM_FAILURE (-11); build log:\nconv2d_fwd.cl:12:3: error: use of undeclared identifier 'tile'")
	_, _, err = runTiny(t, c, Options{WrapDevice: func(dev backend.Device) (backend.Device, error) { return nil, build }})
	require.Error(t, err)
	assert.ErrorIs(t, err, build)
	msg := err.Error()
	assert.Contains(t, msg, "pure-Go reference (ref:0)")
	assert.Contains(t, msg, "conv2d_fwd.cl:12:3: error")
	assert.Contains(t, msg, "the last checkpoint is still "+ckptPath(c.CheckpointDir, 8))

	// The device opens and the plan initialises, but loading the
	// checkpoint onto it fails.
	m, err := NewModel(c)
	require.NoError(t, err)
	lost := errors.New("fake: VK_ERROR_DEVICE_LOST")
	fd := &faultyDevice{err: lost, writesLeft: len(m.Params()) + 1}
	_, _, err = runTiny(t, c, withFault(fd, 0))
	var de *DeviceError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "train: loading the checkpoint to resume from onto pure-Go reference (ref:0) failed in write after kernel fill was queued: fake: VK_ERROR_DEVICE_LOST; "+
		"last checkpoint written: "+ckptPath(c.CheckpointDir, 8)+" (resume with: crossgrad train --resume "+c.CheckpointDir+")", err.Error())
}

func TestDeviceErrorPhases(t *testing.T) {
	e := &DeviceError{Device: "gpu (vulkan:0)", Op: "sync", Phase: "evaluation", Step: 9, Epoch: 1, Err: errors.New("x")}
	assert.Equal(t, "train: evaluation after epoch 1 (step 8) failed on gpu (vulkan:0) in sync: x; no checkpoint was written, nothing to resume from", e.Error())
	e.Phase = "checkpoint"
	assert.Contains(t, e.Error(), "train: saving the checkpoint of step 8 failed on gpu (vulkan:0) in sync: x")
	assert.NotErrorIs(t, e, backend.ErrOutOfMemory)
}
