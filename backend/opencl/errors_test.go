package opencl

import (
	"errors"
	"testing"

	"github.com/jgillich/go-opencl/cl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

func TestWrapCLNamesNativeCodes(t *testing.T) {
	assert.NoError(t, wrapCL("clFinish", nil))
	err := wrapCL("clEnqueueNDRangeKernel", cl.ErrInvalidWorkGroupSize)
	assert.EqualError(t, err, "clEnqueueNDRangeKernel failed: CL_INVALID_WORK_GROUP_SIZE (-54)")
	assert.ErrorIs(t, err, cl.ErrInvalidWorkGroupSize)
	assert.Contains(t, wrapCL("clCreateBuffer", cl.ErrMemObjectAllocationFailure).Error(), "CL_MEM_OBJECT_ALLOCATION_FAILURE (-4)")
	assert.Contains(t, wrapCL("clGetPlatformIDs", cl.ErrOther(-1001)).Error(), "CL_PLATFORM_NOT_FOUND_KHR (-1001)")
	assert.Contains(t, wrapCL("x", cl.ErrOther(-9999)).Error(), "(-9999)")
	err = wrapCL("clBuildProgram", cl.BuildError("<source>:2:5: error: boom\n\x00"))
	var e *Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, -11, e.Code)
	assert.Equal(t, "<source>:2:5: error: boom", e.Log)
	assert.NotContains(t, err.Error(), "\x00")
}

func TestEnqueueErrorsNameKernelAndCode(t *testing.T) {
	d := openTest(t)
	b, err := d.Alloc(16)
	require.NoError(t, err)
	buf := b.(*Buffer)
	p := backend.Fill{N: 16, Value: 1}

	tooBig := d.info.MaxWorkGroupSize * 2
	err = d.enqueue(backend.KFill, "fill", []int{tooBig}, []int{tooBig}, p, buf)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "fill")
	var e *Error
	require.True(t, errors.As(err, &e), "%v", err)
	assert.Less(t, e.Code, 0)

	err = d.enqueue(backend.KFill, "fill", []int{16}, nil, p, 3) // a Go int
	require.Error(t, err)
	assert.Contains(t, err.Error(), "argument 1 (int)")

	err = d.enqueue(backend.KFill, "no_such_function", []int{16}, nil, p, buf)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no_such_function")

	err = d.enqueue(backend.KFill, "fill", []int{0}, nil, p, buf)
	require.Error(t, err)

	// The global range rounded up to the local size is bounds-checked in the
	// kernel; a nil local size lets the driver choose.
	require.NoError(t, d.enqueue(backend.KFill, "fill", []int{13}, []int{8}, backend.Fill{N: 13, Value: 2}, buf))
	require.NoError(t, d.enqueue(backend.KFill, "fill", []int{3}, nil, backend.Fill{N: 3, Value: 4}, buf))
	got := download(t, d, b, 16)
	assert.Equal(t, []float32{4, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, got[:13])
}
