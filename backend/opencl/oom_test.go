package opencl

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jgillich/go-opencl/cl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/alexnet"
	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/graph"
)

func TestOutOfMemoryCodes(t *testing.T) {
	for code, want := range map[error]bool{
		cl.ErrMemObjectAllocationFailure: true, cl.ErrOutOfResources: true, cl.ErrOutOfHostMemory: true,
		cl.ErrInvalidBufferSize: false, cl.ErrInvalidValue: false, cl.ErrBuildProgramFailure: false,
	} {
		err := fmt.Errorf("opencl: gemm: %w", wrapCL("clEnqueueNDRangeKernel", code))
		assert.Equal(t, want, errors.Is(err, backend.ErrOutOfMemory), "%v", code)
		assert.ErrorIs(t, err, code, "the binding's error stays in the chain")
		assert.NotErrorIs(t, err, backend.ErrDeviceLost)
	}
	assert.ErrorIs(t, wrapCL("clGetPlatformIDs", cl.ErrOther(-1001)), backend.ErrNoDriver)
	assert.NotErrorIs(t, wrapCL("clGetPlatformIDs", cl.ErrOther(-1002)), backend.ErrNoDriver)
}

// TestAllocFailureNamesBufferAndSize makes clCreateBuffer fail with
// CL_MEM_OBJECT_ALLOCATION_FAILURE after 40 buffers of a real device while
// a plan allocates: the error names the buffer, its size, the native code
// and a batch size that needs less, says it is out of memory, and nothing
// stays allocated.
func TestAllocFailureNamesBufferAndSize(t *testing.T) {
	d := openTest(t)
	base := d.LiveObjects()
	orig := createBuffer
	t.Cleanup(func() { createBuffer = orig })
	left := 40
	createBuffer = func(ctx *cl.Context, flags cl.MemFlag, size int) (*cl.MemObject, error) {
		if left == 0 {
			return nil, cl.ErrMemObjectAllocationFailure
		}
		left--
		return orig(ctx, flags, size)
	}
	o := alexnet.DefaultOptions()
	o.InputSize, o.Width = 65, 1.0/16
	m, err := alexnet.New(o)
	require.NoError(t, err)
	_, err = graph.New(d, m.Sequential, m.InputShape(64), graph.Config{})
	require.Error(t, err)
	var ae *graph.AllocError
	require.ErrorAs(t, err, &ae)
	msg := err.Error()
	assert.Contains(t, msg, fmt.Sprintf("graph: allocating %s (%s, buffer 41 of ", ae.Buffer.Name, graph.MiB(ae.Buffer.Bytes())))
	assert.Contains(t, msg, fmt.Sprintf("opencl: alloc of %d elements (%d bytes) on %s: clCreateBuffer failed: CL_MEM_OBJECT_ALLOCATION_FAILURE (-4)",
		ae.Buffer.Elems, ae.Buffer.Bytes(), d.info.Name))
	assert.Contains(t, msg, "largest buffers:")
	require.ErrorIs(t, err, backend.ErrOutOfMemory)
	assert.NotErrorIs(t, err, backend.ErrDeviceLost, "out of memory in Alloc is not sticky")
	assert.Equal(t, 0, d.LiveBuffers())
	assert.Equal(t, base, d.LiveObjects())
	createBuffer = orig
	x := upload(t, d, []float32{1, 2, 3})
	require.NoError(t, d.Dispatch(backend.Scale{N: 3, Alpha: 2}, x))
	assert.Equal(t, []float32{2, 4, 6}, download(t, d, x, 3), "the device still works")
	x.Release()
	require.NoError(t, d.Close())
	assert.Equal(t, 0, d.LiveObjects())
}
