//go:build mpi

package mpi

/*
#include "cgmpi.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// scratch is the C memory AllreduceSum hands to MPI: a send and a receive
// buffer, grown to the largest call and reused.
type scratch struct {
	send, recv unsafe.Pointer
	size       int
}

// ensure makes both buffers hold at least n bytes.
func (s *scratch) ensure(n int) error {
	if n <= s.size {
		return nil
	}
	s.free()
	s.send = C.cg_alloc(C.size_t(n))
	s.recv = C.cg_alloc(C.size_t(n))
	if s.send == nil || s.recv == nil {
		s.free()
		return fmt.Errorf("mpi: out of memory for the %d-byte buffers of an allreduce", 2*n)
	}
	s.size = n
	return nil
}

// free releases both buffers.
func (s *scratch) free() {
	C.free(s.send)
	C.free(s.recv)
	s.send, s.recv, s.size = nil, nil, 0
}

// abandon forgets the buffers without freeing them: a collective that
// timed out or failed may still write into them.
func (s *scratch) abandon() {
	s.send, s.recv, s.size = nil, nil, 0
}
