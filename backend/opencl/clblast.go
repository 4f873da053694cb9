//go:build clblast

package opencl

/*
#cgo LDFLAGS: -lclblast -lOpenCL
#include <clblast_c.h>
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/jgillich/go-opencl/cl"

	"github.com/crossgrad/crossgrad/backend"
)

// clblastAvailable reports whether this build links CLBlast (build tag
// clblast, Debian package libclblast-dev); the GEMM benchmarks compare
// against it. Not used by the backend itself.
const clblastAvailable = true

// clHandle reads the native handle that go-opencl keeps as the first field
// of its CommandQueue and MemObject structs.
func clHandle[T any](obj *T) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(obj)) }

// clblastSgemm queues CLBlast's row-major SGEMM computing what backend.Gemm
// p computes over d's buffers a, b, c, on d's queue (benchmarks only).
func clblastSgemm(d *Device, p backend.Gemm, a, b, c *Buffer) error {
	m, n, k := C.size_t(p.M), C.size_t(p.N), C.size_t(p.K)
	ta, tb := C.CLBlastTranspose(C.CLBlastTransposeNo), C.CLBlastTranspose(C.CLBlastTransposeNo)
	lda, ldb := k, n
	if p.TransA != 0 {
		ta, lda = C.CLBlastTransposeYes, m
	}
	if p.TransB != 0 {
		tb, ldb = C.CLBlastTransposeYes, k
	}
	q := C.cl_command_queue(clHandle[cl.CommandQueue](d.queue))
	st := C.CLBlastSgemm(C.CLBlastLayoutRowMajor, ta, tb, m, n, k, C.float(p.Alpha),
		C.cl_mem(clHandle[cl.MemObject](a.mem)), 0, lda,
		C.cl_mem(clHandle[cl.MemObject](b.mem)), 0, ldb,
		C.float(p.Beta), C.cl_mem(clHandle[cl.MemObject](c.mem)), 0, n, &q, nil)
	if st != C.CLBlastSuccess {
		return fmt.Errorf("opencl: CLBlastSgemm %+v: status %d", p, int(st))
	}
	return nil
}
