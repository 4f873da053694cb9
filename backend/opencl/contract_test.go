package opencl

import (
	"testing"

	"github.com/jgillich/go-opencl/cl"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
)

// TestContract runs backendtest's failure contract and ability checks on
// OpenCL device 0: clCreateBuffer fails with
// CL_MEM_OBJECT_ALLOCATION_FAILURE, clFinish with CL_OUT_OF_RESOURCES (how
// drivers report a kernel that crashed the context).
func TestContract(t *testing.T) {
	backendtest.RunContractTest(t, func() (backend.Device, error) { return Open(0) }, backendtest.Faults{
		FailAllocs: func(backend.Device) func() {
			orig := createBuffer
			createBuffer = func(*cl.Context, cl.MemFlag, int) (*cl.MemObject, error) {
				return nil, cl.ErrMemObjectAllocationFailure
			}
			return func() { createBuffer = orig }
		},
		Lose: func(backend.Device) func() {
			orig := finishQueue
			finishQueue = func(*cl.CommandQueue) error { return cl.ErrOutOfResources }
			return func() { finishQueue = orig }
		},
	})
}
