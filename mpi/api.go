// Package mpi is crossgrad's small layer over the MPI C API (Open MPI):
// the world communicator of a process started by mpirun, with the
// host-staged collectives data-parallel training needs. It is compiled
// against libmpi only with the build tag "mpi" (make build-mpi); without
// it, Init returns ErrUnavailable and the binary needs no MPI library.
package mpi

import (
	"errors"
	"fmt"
	"os"
)

// ErrUnavailable is returned by Init when this binary was built without
// the "mpi" build tag or the MPI library cannot start.
var ErrUnavailable = errors.New("mpi: not available")

// RankError says that another rank failed or stopped answering: Rank is
// that rank (-1 when unknown) and Reason what it reported or why it is
// presumed dead.
type RankError struct {
	Rank   int
	Reason string
}

// Error implements error.
func (e *RankError) Error() string {
	if e.Rank < 0 {
		return fmt.Sprintf("mpi: another rank failed: %s", e.Reason)
	}
	return fmt.Sprintf("mpi: rank %d failed: %s", e.Rank, e.Reason)
}

// Launched reports whether this process was started by an MPI launcher
// (mpirun, mpiexec, srun with PMIx), and the environment variable that
// says so, e.g. "OMPI_COMM_WORLD_SIZE=2".
func Launched() (bool, string) {
	for _, k := range []string{"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"} {
		if v, ok := os.LookupEnv(k); ok {
			return true, k + "=" + v
		}
	}
	return false, ""
}

// The rest of the API is in mpi_cgo.go (build tag mpi) and mpi_none.go
// (without it), with the same signatures:
//
//	// Built reports whether this binary was built with the "mpi" tag.
//	func Built() bool
//	// Init starts MPI (MPI_Init_thread) once per process and returns the
//	// world communicator; timeout bounds every later collective (a rank
//	// that does not answer within it is presumed dead: *RankError).
//	func Init(timeout time.Duration) (*Comm, error)
//	func (c *Comm) Rank() int
//	func (c *Comm) Size() int
//	func (c *Comm) AllreduceSum(buf []float32) error  // parallel.Reducer
//	func (c *Comm) Agree(v uint64) (bool, error)      // parallel.Reducer
//	// Allgather returns every rank's b, in rank order, at every rank.
//	func (c *Comm) Allgather(b []byte) ([][]byte, error)
//	// Fail tells the other ranks that this rank stops with reason; their
//	// pending and later collectives return *RankError naming this rank.
//	func (c *Comm) Fail(reason string)
//	// Finalize ends MPI (idempotent); after it every call fails.
//	func (c *Comm) Finalize() error
