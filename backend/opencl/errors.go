package opencl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jgillich/go-opencl/cl"

	"github.com/crossgrad/crossgrad/backend"
)

// Error is a failed OpenCL call: the API function, its native status code
// and, for program builds, the build log.
type Error struct {
	Op   string // OpenCL API function, e.g. "clBuildProgram"
	Code int    // native status code, e.g. -11 for CL_BUILD_PROGRAM_FAILURE
	Log  string // build log (program builds only)
	Err  error  // the binding's error
}

// Error formats the call, the code's CL_* name and number, and the log.
func (e *Error) Error() string {
	msg := fmt.Sprintf("%s failed: %s (%d)", e.Op, codeName(e.Code), e.Code)
	if e.Code == 0 && e.Err != nil {
		msg = fmt.Sprintf("%s failed: %v", e.Op, e.Err)
	}
	if e.Log != "" {
		msg += "; build log:\n" + e.Log
	}
	return msg
}

// Unwrap returns the binding's error and the failure kind of the code, if
// any (see kindOf).
func (e *Error) Unwrap() []error {
	if k := kindOf(e.Code); k != nil {
		return []error{e.Err, k}
	}
	return []error{e.Err}
}

// kindOf maps a native status code to its failure kind:
// CL_MEM_OBJECT_ALLOCATION_FAILURE (-4), CL_OUT_OF_RESOURCES (-5) and
// CL_OUT_OF_HOST_MEMORY (-6) are backend.ErrOutOfMemory (drivers that
// allocate lazily report the first two when a kernel first uses a buffer),
// CL_PLATFORM_NOT_FOUND_KHR (-1001), the ICD loader's answer when no driver
// is installed, is backend.ErrNoDriver. Other codes have no kind, nil.
func kindOf(code int) error {
	switch code {
	case -4, -5, -6:
		return backend.ErrOutOfMemory
	case -1001:
		return backend.ErrNoDriver
	}
	return nil
}

// invalidUse reports whether the driver refused a malformed call
// (CL_INVALID_*, -30 to -68): nothing ran, so the device is not lost.
func (e *Error) invalidUse() bool { return e.Code <= -30 && e.Code >= -68 }

// createBuffer is clCreateBuffer for Device.Alloc; tests replace it to
// inject allocation failures.
var createBuffer = func(ctx *cl.Context, flags cl.MemFlag, size int) (*cl.MemObject, error) {
	return ctx.CreateEmptyBuffer(flags, size)
}

// finishQueue is clFinish for Device.Sync and Close; tests replace it to
// inject failures of queued work.
var finishQueue = func(q *cl.CommandQueue) error { return q.Finish() }

// wrapCL turns a go-opencl error into an *Error carrying the native code;
// nil stays nil.
func wrapCL(op string, err error) error {
	if err == nil {
		return nil
	}
	var be cl.BuildError
	if errors.As(err, &be) {
		return &Error{Op: op, Code: -11, Log: strings.TrimRight(string(be), "\x00 \n"), Err: err}
	}
	var other cl.ErrOther
	if errors.As(err, &other) {
		return &Error{Op: op, Code: int(other), Err: err}
	}
	for code, e := range clErrors {
		if e == err {
			return &Error{Op: op, Code: code, Err: err}
		}
	}
	return &Error{Op: op, Code: 0, Err: err}
}

// clErrors maps native status codes to the binding's error values.
var clErrors = map[int]error{
	-1: cl.ErrDeviceNotFound, -2: cl.ErrDeviceNotAvailable, -3: cl.ErrCompilerNotAvailable,
	-4: cl.ErrMemObjectAllocationFailure, -5: cl.ErrOutOfResources, -6: cl.ErrOutOfHostMemory,
	-7: cl.ErrProfilingInfoNotAvailable, -8: cl.ErrMemCopyOverlap, -9: cl.ErrImageFormatMismatch,
	-10: cl.ErrImageFormatNotSupported, -11: cl.ErrBuildProgramFailure, -12: cl.ErrMapFailure,
	-13: cl.ErrMisalignedSubBufferOffset, -14: cl.ErrExecStatusErrorForEventsInWaitList,
	-15: cl.ErrCompileProgramFailure, -16: cl.ErrLinkerNotAvailable, -17: cl.ErrLinkProgramFailure,
	-18: cl.ErrDevicePartitionFailed, -19: cl.ErrKernelArgInfoNotAvailable,
	-30: cl.ErrInvalidValue, -31: cl.ErrInvalidDeviceType, -32: cl.ErrInvalidPlatform,
	-33: cl.ErrInvalidDevice, -34: cl.ErrInvalidContext, -35: cl.ErrInvalidQueueProperties,
	-36: cl.ErrInvalidCommandQueue, -37: cl.ErrInvalidHostPtr, -38: cl.ErrInvalidMemObject,
	-39: cl.ErrInvalidImageFormatDescriptor, -40: cl.ErrInvalidImageSize, -41: cl.ErrInvalidSampler,
	-42: cl.ErrInvalidBinary, -43: cl.ErrInvalidBuildOptions, -44: cl.ErrInvalidProgram,
	-45: cl.ErrInvalidProgramExecutable, -46: cl.ErrInvalidKernelName, -47: cl.ErrInvalidKernelDefinition,
	-48: cl.ErrInvalidKernel, -49: cl.ErrInvalidArgIndex, -50: cl.ErrInvalidArgValue,
	-51: cl.ErrInvalidArgSize, -52: cl.ErrInvalidKernelArgs, -53: cl.ErrInvalidWorkDimension,
	-54: cl.ErrInvalidWorkGroupSize, -55: cl.ErrInvalidWorkItemSize, -56: cl.ErrInvalidGlobalOffset,
	-57: cl.ErrInvalidEventWaitList, -58: cl.ErrInvalidEvent, -59: cl.ErrInvalidOperation,
	-60: cl.ErrInvalidGlObject, -61: cl.ErrInvalidBufferSize, -62: cl.ErrInvalidMipLevel,
	-63: cl.ErrInvalidGlobalWorkSize, -64: cl.ErrInvalidProperty, -65: cl.ErrInvalidImageDescriptor,
	-66: cl.ErrInvalidCompilerOptions, -67: cl.ErrInvalidLinkerOptions, -68: cl.ErrInvalidDevicePartitionCount,
}

// codeName is the CL_* name of a native status code.
func codeName(code int) string {
	switch code {
	case 0:
		return "unknown error"
	case -1001:
		return "CL_PLATFORM_NOT_FOUND_KHR"
	}
	if e, ok := clErrors[code]; ok {
		s := strings.TrimPrefix(e.Error(), "cl: ")
		return "CL_" + strings.ToUpper(strings.ReplaceAll(s, " ", "_"))
	}
	return "CL error"
}
