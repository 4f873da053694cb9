//go:build !mpi

package mpi

import (
	"fmt"
	"time"
)

// errNotBuilt says how to get a binary with MPI.
var errNotBuilt = fmt.Errorf("%w: this crossgrad was built without MPI: install libopenmpi-dev and build with `make build-mpi` (go build -tags mpi ./cmd/crossgrad)", ErrUnavailable)

// Comm is the world communicator of an MPI process; without the "mpi"
// build tag Init never returns one and every method fails.
type Comm struct{}

// Built reports whether this binary was built with the "mpi" tag.
func Built() bool { return false }

// Init would start MPI; this binary was built without it, so it returns
// an error wrapping ErrUnavailable that says how to build with MPI.
func Init(timeout time.Duration) (*Comm, error) { return nil, errNotBuilt }

// Rank is this process's index in [0, Size).
func (c *Comm) Rank() int { return 0 }

// Size is the number of processes.
func (c *Comm) Size() int { return 1 }

// AllreduceSum fails: this binary was built without MPI.
func (c *Comm) AllreduceSum(buf []float32) error { return errNotBuilt }

// Agree fails: this binary was built without MPI.
func (c *Comm) Agree(v uint64) (bool, error) { return false, errNotBuilt }

// Allgather fails: this binary was built without MPI.
func (c *Comm) Allgather(b []byte) ([][]byte, error) { return nil, errNotBuilt }

// Fail does nothing: there are no other ranks to tell.
func (c *Comm) Fail(reason string) {}

// Finalize does nothing: MPI was never started.
func (c *Comm) Finalize() error { return nil }
