//go:build mpi

package mpi

/*
#cgo pkg-config: ompi-c
#include "cgmpi.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Threads: goroutines move between OS threads, and MPI ties its state to
// the thread that called MPI_Init_thread. Every MPI call therefore runs on
// one goroutine locked to its OS thread (runtime.LockOSThread), which
// initialises MPI with MPI_THREAD_FUNNELED and serves the calls of every
// other goroutine through a channel, one call at a time (Comm.mu).

// errFinalized is returned by every call after Finalize.
var errFinalized = errors.New("mpi: Finalize was called: MPI cannot be used again in this process")

// world records whether this process called Init: MPI starts only once.
var world struct {
	sync.Mutex
	started bool
}

// Comm is the world communicator of this process. Its methods are safe
// for concurrent use (they run one at a time); the collectives must be
// called by every rank in the same order.
type Comm struct {
	mu      sync.Mutex
	calls   chan func()
	rank    int
	size    int
	timeout time.Duration
	// err, once set (by Fail, a RankError or an MPI error), is returned by
	// every later collective: a collective abandoned half-way leaves MPI
	// requests and their buffers in flight, so the communicator is not
	// usable again.
	err       error
	finalized bool
	scratch   scratch
	failSends []C.MPI_Request
	failBuf   *C.char
	// stopping is Fail's reason, set before Fail waits for mu, so that a
	// collective pending in another goroutine gives up at its next poll.
	stopping atomic.Pointer[string]
}

// Built reports whether this binary was built with the "mpi" tag.
func Built() bool { return true }

// Init starts MPI (MPI_Init_thread) once per process and returns the world
// communicator; timeout bounds every later collective (a rank that does
// not answer within it is presumed dead: *RankError). A second Init in the
// same process fails.
//
// Open MPI 4.1 treats a failure inside MPI_Init_thread itself as fatal: it
// prints "An error occurred in MPI_Init_thread" and ends the process
// before any error handler can be set; the errors Init returns cover the
// cases that MPI reports back.
func Init(timeout time.Duration) (*Comm, error) {
	if timeout <= 0 {
		return nil, fmt.Errorf("mpi: Init timeout %v: it must be positive (it bounds every collective)", timeout)
	}
	world.Lock()
	defer world.Unlock()
	if world.started {
		return nil, errors.New("mpi: Init was already called in this process: use the Comm it returned")
	}
	world.started = true
	preventSignalHandlers()
	c := &Comm{calls: make(chan func()), timeout: timeout}
	go serve(c.calls)
	res := make(chan error, 1)
	c.calls <- func() { res <- c.start() }
	select {
	case err := <-res:
		if err != nil {
			close(c.calls)
			return nil, err
		}
	case <-time.After(timeout):
		return nil, fmt.Errorf("%w: MPI_Init_thread did not return within %v (did every rank start?)", ErrUnavailable, timeout)
	}
	return c, nil
}

// preventSignalHandlers keeps UCX (Open MPI's transport on InfiniBand)
// from replacing the Go runtime's SIGSEGV, SIGBUS, SIGFPE and SIGILL
// handlers with its own, which would turn Go panics into crashes, unless
// the user set UCX_ERROR_SIGNALS. Open MPI itself leaves a handler it
// finds in place, and the Go runtime installs its own first.
func preventSignalHandlers() {
	if _, ok := os.LookupEnv("UCX_ERROR_SIGNALS"); !ok {
		_ = os.Setenv("UCX_ERROR_SIGNALS", "")
	}
}

// serve runs every MPI call of the process on one OS thread.
func serve(calls chan func()) {
	runtime.LockOSThread()
	for f := range calls {
		f()
	}
}

// start runs on the MPI thread.
func (c *Comm) start() error {
	var initialized, finalized C.int
	if rc := C.cg_state(&initialized, &finalized); rc != C.MPI_SUCCESS {
		return fmt.Errorf("%w: MPI_Initialized: %s", ErrUnavailable, mpiError(rc))
	}
	if initialized != 0 || finalized != 0 {
		return fmt.Errorf("%w: MPI was already started or ended outside package mpi", ErrUnavailable)
	}
	var provided C.int
	if rc := C.cg_init(&provided); rc != C.MPI_SUCCESS {
		return fmt.Errorf("%w: MPI_Init_thread: %s", ErrUnavailable, mpiError(rc))
	}
	if provided < C.MPI_THREAD_FUNNELED {
		C.MPI_Finalize()
		return fmt.Errorf("%w: MPI_Init_thread gave thread level %d, below MPI_THREAD_FUNNELED", ErrUnavailable, int(provided))
	}
	if rc := C.cg_errors_return(); rc != C.MPI_SUCCESS {
		C.MPI_Finalize()
		return fmt.Errorf("%w: MPI_Comm_set_errhandler: %s", ErrUnavailable, mpiError(rc))
	}
	var rank, size C.int
	if rc := C.cg_rank_size(&rank, &size); rc != C.MPI_SUCCESS {
		C.MPI_Finalize()
		return fmt.Errorf("%w: MPI_Comm_rank: %s", ErrUnavailable, mpiError(rc))
	}
	c.rank, c.size = int(rank), int(size)
	return nil
}

// Rank is this process's index in [0, Size).
func (c *Comm) Rank() int { return c.rank }

// Size is the number of processes in the world communicator.
func (c *Comm) Size() int { return c.size }

// run executes f on the MPI thread unless the communicator already failed
// or ended; an error f returns is kept for every later call.
func (c *Comm) run(f func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finalized {
		return errFinalized
	}
	if c.err != nil {
		return c.err
	}
	res := make(chan error, 1)
	c.calls <- func() { res <- f() }
	if err := <-res; err != nil {
		c.err = err
		return err
	}
	return nil
}

// Finalize ends MPI (idempotent); after it every call fails. It waits for
// the other ranks to reach Finalize too, at most the Init timeout.
func (c *Comm) Finalize() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finalized {
		return nil
	}
	c.finalized = true
	res := make(chan error, 1)
	c.calls <- func() {
		if reason := c.stopping.Load(); reason != nil {
			c.sendFail(*reason)
		}
		c.releaseFailSends()
		if rc := C.MPI_Finalize(); rc != C.MPI_SUCCESS {
			res <- fmt.Errorf("mpi: MPI_Finalize: %s", mpiError(rc))
			return
		}
		c.scratch.free()
		res <- nil
	}
	close(c.calls)
	select {
	case err := <-res:
		return err
	case <-time.After(c.timeout):
		return fmt.Errorf("mpi: MPI_Finalize did not return within %v: another rank has not reached it", c.timeout)
	}
}

// mpiError is MPI's message for an error code.
func mpiError(rc C.int) string {
	buf := make([]byte, C.MPI_MAX_ERROR_STRING)
	var n C.int
	C.cg_error_string(rc, (*C.char)(unsafe.Pointer(&buf[0])), &n)
	if n <= 0 {
		return fmt.Sprintf("MPI error %d", int(rc))
	}
	return string(buf[:n])
}
