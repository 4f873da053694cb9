package opencl

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

func TestRegisteredAndEnumerated(t *testing.T) {
	d := openTest(t)
	devs, err := clBackend{}.Devices()
	require.NoError(t, err)
	require.NotEmpty(t, devs)
	assert.Equal(t, devs[0], d.Info())
	assert.Contains(t, backend.Names(), "opencl")
	sel, err := backend.Select("opencl:0")
	require.NoError(t, err)
	assert.Equal(t, "opencl:0", sel[0].ID())
}

func TestInfoSane(t *testing.T) {
	d := openTest(t)
	i := d.Info()
	assert.Equal(t, "opencl", i.Backend)
	assert.Equal(t, 0, i.Index)
	assert.NotEmpty(t, i.Name)
	assert.NotEmpty(t, i.Vendor)
	assert.NotEqual(t, "unknown", i.Vendor)
	assert.NotEmpty(t, i.DriverVersion)
	assert.Greater(t, i.GlobalMemory, uint64(1<<20))
	assert.Greater(t, i.MaxAlloc, uint64(1<<20))
	assert.LessOrEqual(t, i.MaxAlloc, i.GlobalMemory)
	assert.GreaterOrEqual(t, i.ComputeUnits, 1)
	assert.GreaterOrEqual(t, i.MaxWorkGroupSize, 1)
	assert.GreaterOrEqual(t, i.LocalMemory, uint64(16<<10)) // OpenCL 1.2 minimum: 32 KiB (16 for embedded)
	if strings.Contains(strings.ToLower(i.Name), "pthread") || strings.Contains(i.DriverVersion, "pocl") {
		assert.Equal(t, backend.CPUDevice, i.Type)
		assert.Zero(t, i.VendorID)
	}
}

func TestTooSmallBufferNamesKernelAndSizes(t *testing.T) {
	d := openTest(t)
	x := upload(t, d, make([]float32, 10))
	y := upload(t, d, make([]float32, 9))
	err := d.Dispatch(backend.ReluFwd{N: 10}, x, y)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "relu_fwd")
	assert.Contains(t, err.Error(), "holds 9 elements, params need 10")

	err = d.Dispatch(backend.BiasAdd{Rows: 3, Cols: 4}, x)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bias_add")

	err = d.Dispatch(backend.ReluFwd{N: 10}, x, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "relu_fwd")

	var typedNil *Buffer
	err = d.Dispatch(backend.ReluFwd{N: 10}, x, typedNil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "relu_fwd")

	err = d.Dispatch(backend.ReluFwd{N: 0}, x, x)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "relu_fwd")
}

func TestForeignAndReleasedBuffers(t *testing.T) {
	d := openTest(t)
	other := openTest(t)
	x := upload(t, d, make([]float32, 4))
	o := upload(t, other, make([]float32, 4))
	err := d.Dispatch(backend.ReluFwd{N: 4}, x, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "relu_fwd")
	assert.Contains(t, err.Error(), "another device")
	require.Error(t, d.Write(o, 0, []float32{1}))

	y := upload(t, d, make([]float32, 4))
	y.Release()
	y.Release() // idempotent
	err = d.Dispatch(backend.ReluFwd{N: 4}, x, y)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "released")
	require.Error(t, d.Read(y, 0, make([]float32, 1)))
}

func TestReadWriteRanges(t *testing.T) {
	d := openTest(t)
	b := upload(t, d, []float32{1, 2, 3, 4, 5})
	require.NoError(t, d.Write(b, 2, []float32{30, 40}))
	got := make([]float32, 3)
	require.NoError(t, d.Read(b, 1, got))
	assert.Equal(t, []float32{2, 30, 40}, got)
	require.NoError(t, d.Write(b, 5, nil)) // empty: no-op, even at the end
	require.NoError(t, d.Read(b, 0, []float32{}))
	require.Error(t, d.Write(b, 4, []float32{1, 2}))
	require.Error(t, d.Write(b, -1, []float32{1}))
	require.Error(t, d.Read(b, 3, make([]float32, 3)))

	_, err := d.Alloc(0)
	require.Error(t, err)
	_, err = d.Alloc(-1)
	require.Error(t, err)
	over := int(d.Info().MaxAlloc/4) + 1
	_, err = d.Alloc(over)
	require.Error(t, err)
	if over <= backend.MaxElements {
		assert.Contains(t, err.Error(), "bytes")
		assert.ErrorIs(t, err, backend.ErrOutOfMemory)
	} else { // PoCL on a host of 24 GiB allows 8 GiB and more: the element limit refuses first
		assert.Contains(t, err.Error(), fmt.Sprintf("size must be in [1, %d]", backend.MaxElements))
	}
}

func TestCloseIdempotentAndReleasesAll(t *testing.T) {
	if _, err := listDevices(); err != nil {
		openTest(t) // skips or fails as the CI rule says
	}
	d, err := Open(0)
	require.NoError(t, err)
	a, err := d.Alloc(100)
	require.NoError(t, err)
	_, err = d.Alloc(7)
	require.NoError(t, err)
	assert.Equal(t, 2, d.LiveBuffers())
	a.Release()
	a.Release()
	assert.Equal(t, 1, d.LiveBuffers())
	// resize's internal tables are not user buffers but must go at Close too.
	src := upload(t, d, make([]float32, 4))
	dst, err := d.Alloc(9)
	require.NoError(t, err)
	require.NoError(t, d.Dispatch(backend.ResizeBilinear{N: 1, InH: 2, InW: 2, OutH: 3, OutW: 3}, src, dst))
	assert.Equal(t, 3, d.LiveBuffers())

	require.NoError(t, d.Close())
	assert.Equal(t, 0, d.LiveBuffers())
	assert.Empty(t, d.pil)
	require.NoError(t, d.Close())
	a.Release() // after Close: still a no-op

	_, err = d.Alloc(1)
	assert.ErrorIs(t, err, errClosed)
	assert.ErrorIs(t, d.Sync(), errClosed)
	assert.ErrorIs(t, d.Dispatch(backend.Fill{N: 1}, dst), errClosed)
	assert.ErrorIs(t, d.Write(dst, 0, []float32{1}), errClosed)
	assert.ErrorIs(t, d.Read(dst, 0, []float32{1}), errClosed)
	_, err = d.KernelTimes()
	assert.ErrorIs(t, err, errClosed)
	assert.Equal(t, "opencl", d.Info().Backend)
}

func TestBrokenProgramReturnsBuildLog(t *testing.T) {
	d := openTest(t)
	src := "__kernel void broken(__global float* x) {\n    x[0] = no_such_variable;\n}\n"
	prog, err := buildProgram(d.ctx, d.dev, d.info.Name, src, buildOptions)
	require.Error(t, err)
	assert.Nil(t, prog)
	msg := err.Error()
	assert.Contains(t, msg, "no_such_variable")
	assert.Contains(t, msg, d.info.Name)
	assert.Contains(t, msg, "CL_BUILD_PROGRAM_FAILURE (-11)")
	assert.NotContains(t, msg, "\x00")
	var clErr *Error
	require.True(t, errors.As(err, &clErr))
	assert.Equal(t, -11, clErr.Code)
	assert.Equal(t, "clBuildProgram", clErr.Op)
	assert.NotEmpty(t, clErr.Log)
}

func TestProgramSourceIncludes(t *testing.T) {
	fsys := fstest.MapFS{
		"b.cl":   {Data: []byte("#include \"x.h\"\n__kernel void b(__global float* p) { p[0] = X; }\n")},
		"a.cl":   {Data: []byte("#include \"x.h\"\n#include \"y.h\"\n// __kernel void commented_out(int x) {}\n__kernel void a(__global float* p) { p[0] = Y; }\n")},
		"x.h":    {Data: []byte("#ifndef X_H\n#define X_H\n#define X 1.0f\n#endif\n")},
		"y.h":    {Data: []byte("#include \"x.h\"\n#define Y X\n")},
		"c.cl":   {Data: []byte("__kernel __attribute__((reqd_work_group_size(1, 1, 1)))\nvoid c(__global float* p) { p[0] = 2.0f; }\n")},
		"skip.h": {Data: []byte("#error never included\n")},
	}
	src, err := programSource(fsys)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(src, "#define X 1.0f"), "each header once")
	assert.Less(t, strings.Index(src, "__kernel void a"), strings.Index(src, "__kernel void b"), "files in name order")
	assert.NotContains(t, src, "never included")
	assert.Contains(t, src, `#line 1 "x.h"`)
	assert.Equal(t, []string{"a", "b", "c"}, kernelNames(src))

	d := openTest(t)
	prog, err := buildProgram(d.ctx, d.dev, d.info.Name, src, buildOptions)
	require.NoError(t, err)
	prog.Release()

	_, err = programSource(fstest.MapFS{"a.cl": {Data: []byte("#include \"missing.h\"\n")}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing.h")
	assert.Contains(t, err.Error(), "a.cl:1")
}

func TestEveryKernelIsBuilt(t *testing.T) {
	d := openTest(t)
	for _, k := range backend.Kernels() {
		if _, ok := launchers[k]; !ok {
			continue // not this helper's kernel yet (gemm, conv2d_*)
		}
		if tiledKernels[k] {
			_, err := d.tiledKernel(k, d.tiling())
			assert.NoError(t, err, "tiled kernel %s", k)
			continue
		}
		assert.Contains(t, d.kernels, string(k), "kernel function %s", k)
	}
}

func TestMissingLauncher(t *testing.T) {
	d := openTest(t)
	saved, had := launchers[backend.KFill]
	delete(launchers, backend.KFill)
	defer func() {
		if had {
			launchers[backend.KFill] = saved
		}
	}()
	b := upload(t, d, make([]float32, 3))
	err := d.Dispatch(backend.Fill{N: 3, Value: 1}, b)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "kernel fill has no OpenCL launcher")
}

func TestParamsByPointer(t *testing.T) {
	d := openTest(t)
	b := upload(t, d, make([]float32, 5))
	require.NoError(t, d.Dispatch(&backend.Fill{N: 5, Value: 2.5}, b))
	assert.Equal(t, []float32{2.5, 2.5, 2.5, 2.5, 2.5}, download(t, d, b, 5))
}

// TestTimingEvents checks the event bookkeeping behind KernelTimes (whose
// results backendtest.RunContractTest checks): none while timing is off,
// none left after KernelTimes or Sync.
func TestTimingEvents(t *testing.T) {
	d := openTest(t)
	b := upload(t, d, make([]float32, 1000))
	require.NoError(t, d.Dispatch(backend.Fill{N: 1000, Value: 1}, b))
	assert.Empty(t, d.pending, "untimed dispatches keep no events")

	times, err := d.KernelTimes() // turns timing on
	require.NoError(t, err)
	assert.Empty(t, times, "the untimed fill is not reported")
	for range 3 {
		require.NoError(t, d.Dispatch(backend.Scale{N: 1000, Alpha: 2}, b))
	}
	assert.Len(t, d.pending, 3)
	times, err = d.KernelTimes()
	require.NoError(t, err)
	assert.Equal(t, 3, times[backend.KScale].Count)
	assert.Empty(t, d.pending)

	// Sync also folds events; Close releases pending ones.
	require.NoError(t, d.Dispatch(backend.Scale{N: 1000, Alpha: 2}, b))
	require.NoError(t, d.Sync())
	assert.Empty(t, d.pending)
	require.NoError(t, d.Dispatch(backend.Scale{N: 1000, Alpha: 2}, b))
	assert.Len(t, d.pending, 1)
}
