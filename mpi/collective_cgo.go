//go:build mpi

package mpi

/*
#include "cgmpi.h"
*/
import "C"

import (
	"fmt"
	"math"
	"time"
	"unsafe"
)

const (
	// failTag marks the notice Fail sends; collectives use their own
	// communication context, so it cannot match their traffic.
	failTag = 32001
	// maxReason bounds a failure notice, so it travels in one eager send.
	maxReason = 1024
	// spinPolls MPI_Test calls run back to back before the loop starts
	// sleeping pollSleepUS µs between them: MPI moves data only inside MPI
	// calls, so polling must stay frequent, yet a rank waiting for a slow
	// one should leave the cores to it.
	spinPolls   = 64
	pollSleepUS = 50
	// failFlush bounds how long Fail waits for its notices to leave (a
	// rank that mpirun has sent SIGTERM has about a second left).
	failFlush = 250 * time.Millisecond
)

// AllreduceSum replaces buf (the same length on every rank) by its
// elementwise sum over the ranks, bit-identical on every rank.
//
// It is one MPI_Iallreduce on C-owned copies of buf (MPI keeps using the
// buffers of a collective abandoned after a timeout). Open MPI 4.1 runs
// nonblocking collectives in coll/libnbc, whose algorithms compute every
// element of the result on exactly one rank and copy it to the others
// (binomial reduce to rank 0 then broadcast below 4 ranks or 64 KiB;
// reduce-scatter then allgather above), so every rank gets the same bits;
// with 2 ranks commutativity of IEEE addition suffices whatever the
// algorithm. The test runs 3 ranks and compares the bits.
func (c *Comm) AllreduceSum(buf []float32) error {
	if len(buf) > math.MaxInt32 {
		return fmt.Errorf("mpi: AllreduceSum of %d floats: at most %d per call", len(buf), math.MaxInt32)
	}
	if len(buf) == 0 {
		return c.run(func() error { return nil })
	}
	return c.run(func() error {
		deadline := time.Now().Add(c.timeout)
		n := len(buf)
		if err := c.scratch.ensure(4 * n); err != nil {
			return err
		}
		send := unsafe.Slice((*float32)(c.scratch.send), n)
		copy(send, buf)
		var req C.MPI_Request
		if rc := C.cg_iallreduce_sum_f32((*C.float)(c.scratch.send), (*C.float)(c.scratch.recv), C.int(n), &req); rc != C.MPI_SUCCESS {
			return fmt.Errorf("mpi: MPI_Iallreduce of %d floats: %s", n, mpiError(rc))
		}
		if err := c.wait(&req, deadline, "MPI_Iallreduce"); err != nil {
			c.scratch.abandon()
			return err
		}
		copy(buf, unsafe.Slice((*float32)(c.scratch.recv), n))
		return nil
	})
}

// Agree reports whether every rank passed the same v: one allreduce of
// the maximum of v and of ^v (max(^v) = ^min(v)).
func (c *Comm) Agree(v uint64) (bool, error) {
	var same bool
	err := c.run(func() error {
		deadline := time.Now().Add(c.timeout)
		mem := (*[4]uint64)(C.malloc(32))
		mem[0], mem[1] = v, ^v
		var req C.MPI_Request
		if rc := C.cg_iallreduce_max_u64((*C.uint64_t)(&mem[0]), (*C.uint64_t)(&mem[2]), 2, &req); rc != C.MPI_SUCCESS {
			C.free(unsafe.Pointer(mem))
			return fmt.Errorf("mpi: MPI_Iallreduce (Agree): %s", mpiError(rc))
		}
		if err := c.wait(&req, deadline, "MPI_Iallreduce (Agree)"); err != nil {
			return err
		}
		same = mem[2] == ^mem[3]
		C.free(unsafe.Pointer(mem))
		return nil
	})
	return same, err
}

// Allgather returns every rank's b, in rank order, at every rank: the
// lengths first (MPI_Iallgather), then the bytes (MPI_Iallgatherv).
func (c *Comm) Allgather(b []byte) ([][]byte, error) {
	var out [][]byte
	err := c.run(func() error {
		deadline := time.Now().Add(c.timeout)
		lens, err := c.gatherLengths(int64(len(b)), deadline)
		if err != nil {
			return err
		}
		total := int64(0)
		for _, l := range lens {
			total += l
		}
		if total > math.MaxInt32 {
			return fmt.Errorf("mpi: Allgather of %d bytes in all: at most %d", total, math.MaxInt32)
		}
		counts := (*C.int)(C.malloc(C.size_t(8 * c.size)))
		displs := unsafe.Add(unsafe.Pointer(counts), 4*c.size)
		cnt := unsafe.Slice(counts, c.size)
		dsp := unsafe.Slice((*C.int)(displs), c.size)
		off := int64(0)
		for i, l := range lens {
			cnt[i], dsp[i] = C.int(l), C.int(off)
			off += l
		}
		send := C.malloc(C.size_t(len(b) + 1))
		recv := C.malloc(C.size_t(total + 1))
		copy(unsafe.Slice((*byte)(send), len(b)), b)
		var req C.MPI_Request
		if rc := C.cg_iallgatherv_bytes(send, C.int(len(b)), recv, counts, (*C.int)(displs), &req); rc != C.MPI_SUCCESS {
			C.free(send)
			C.free(recv)
			C.free(unsafe.Pointer(counts))
			return fmt.Errorf("mpi: MPI_Iallgatherv of %d bytes: %s", len(b), mpiError(rc))
		}
		if err := c.wait(&req, deadline, "MPI_Iallgatherv"); err != nil {
			return err
		}
		all := unsafe.Slice((*byte)(recv), total)
		out = make([][]byte, c.size)
		for i, l := range lens {
			out[i] = append([]byte{}, all[dsp[i]:int64(dsp[i])+l]...)
		}
		C.free(send)
		C.free(recv)
		C.free(unsafe.Pointer(counts))
		return nil
	})
	return out, err
}

// gatherLengths runs on the MPI thread: every rank's n, in rank order.
func (c *Comm) gatherLengths(n int64, deadline time.Time) ([]int64, error) {
	mem := (*C.int64_t)(C.malloc(C.size_t(8 * (c.size + 1))))
	all := unsafe.Slice(mem, c.size+1)
	all[0] = C.int64_t(n)
	var req C.MPI_Request
	if rc := C.cg_iallgather_i64(mem, &all[1], &req); rc != C.MPI_SUCCESS {
		C.free(unsafe.Pointer(mem))
		return nil, fmt.Errorf("mpi: MPI_Iallgather of the lengths: %s", mpiError(rc))
	}
	if err := c.wait(&req, deadline, "MPI_Iallgather"); err != nil {
		return nil, err
	}
	lens := make([]int64, c.size)
	for i := range lens {
		lens[i] = int64(all[i+1])
	}
	C.free(unsafe.Pointer(mem))
	return lens, nil
}

// wait runs on the MPI thread: it polls req until it completes, another
// rank's failure notice arrives (looked for first, so that a collective
// started after the notice came fails even if it could complete), Fail is
// called in this process or the deadline passes. On an error the
// request stays in flight, and so must its buffers.
func (c *Comm) wait(req *C.MPI_Request, deadline time.Time, what string) error {
	for polls := 0; ; polls++ {
		if err := probeFail(); err != nil {
			return err
		}
		if reason := c.stopping.Load(); reason != nil {
			c.sendFail(*reason)
			return c.stoppedError(*reason)
		}
		var done C.int
		if rc := C.cg_test(req, &done); rc != C.MPI_SUCCESS {
			return fmt.Errorf("mpi: %s: %s", what, mpiError(rc))
		}
		if done != 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return &RankError{Rank: -1, Reason: fmt.Sprintf("no answer within %v: a rank died or hangs", c.timeout)}
		}
		if polls >= spinPolls {
			C.cg_sleep_us(pollSleepUS)
		}
	}
}

// probeFail runs on the MPI thread: the failure notice of another rank,
// if one has arrived.
func probeFail() error {
	var found, source, n C.int
	if rc := C.cg_probe(failTag, &found, &source, &n); rc != C.MPI_SUCCESS {
		return fmt.Errorf("mpi: MPI_Iprobe: %s", mpiError(rc))
	}
	if found == 0 {
		return nil
	}
	buf := (*C.char)(C.malloc(C.size_t(n + 1)))
	defer C.free(unsafe.Pointer(buf))
	if rc := C.cg_recv_bytes(buf, n, source, failTag); rc != C.MPI_SUCCESS {
		return &RankError{Rank: int(source), Reason: "failed (its notice could not be read: " + mpiError(rc) + ")"}
	}
	return &RankError{Rank: int(source), Reason: C.GoStringN(buf, n)}
}

// Fail tells the other ranks that this rank stops with reason; their
// pending and later collectives return *RankError naming this rank, and
// this rank's own pending collective (in another goroutine) and later ones
// return an error too. The notices are nonblocking sends, waited for at
// most a quarter of a second (a dead rank may never take its notice).
func (c *Comm) Fail(reason string) {
	if len(reason) > maxReason {
		reason = reason[:maxReason]
	}
	if !c.stopping.CompareAndSwap(nil, &reason) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finalized {
		return
	}
	done := make(chan struct{})
	c.calls <- func() {
		c.sendFail(reason)
		close(done)
	}
	<-done
	if c.err == nil {
		c.err = c.stoppedError(reason)
	}
}

// stoppedError is what this rank's collectives return after Fail.
func (c *Comm) stoppedError(reason string) error {
	return fmt.Errorf("mpi: rank %d stopped: %s", c.rank, reason)
}

// sendFail runs on the MPI thread, once: whichever of Fail, the collective
// it interrupts and Finalize comes first sends the notices.
func (c *Comm) sendFail(reason string) {
	if c.failSends != nil {
		return
	}
	c.failSends = []C.MPI_Request{}
	c.failBuf = C.CString(reason)
	for r := 0; r < c.size; r++ {
		if r == c.rank {
			continue
		}
		var req C.MPI_Request
		if C.cg_isend_bytes(c.failBuf, C.int(len(reason)), C.int(r), failTag, &req) == C.MPI_SUCCESS {
			c.failSends = append(c.failSends, req)
		}
	}
	deadline := time.Now().Add(min(failFlush, c.timeout))
	for !c.failSent() && time.Now().Before(deadline) {
		C.cg_sleep_us(pollSleepUS)
	}
}

// failSent runs on the MPI thread: whether every notice has left.
func (c *Comm) failSent() bool {
	all := true
	for i := range c.failSends {
		var done C.int
		if C.cg_test(&c.failSends[i], &done) != C.MPI_SUCCESS || done == 0 {
			all = false
		}
	}
	return all
}

// releaseFailSends runs on the MPI thread before MPI_Finalize: the notice
// buffer is freed only when no send still reads it.
func (c *Comm) releaseFailSends() {
	if c.failBuf != nil && c.failSent() {
		C.free(unsafe.Pointer(c.failBuf))
		c.failBuf = nil
	}
}
