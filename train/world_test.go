package train

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"sync"

	"github.com/crossgrad/crossgrad/mpi"
)

// world is an in-process stand-in for MPI's world communicator: size
// ranks, each a goroutine holding a *worldRank; every collective waits for
// all ranks, then gives each the same result (sums in rank order). A rank
// that calls Fail makes every pending and later collective of the others
// return a *mpi.RankError naming it.
type world struct {
	mu      sync.Mutex
	cond    *sync.Cond
	size    int
	gen     int      // collectives completed
	arrived int      // ranks waiting in the current collective
	in      [][]byte // each rank's contribution to the current collective
	out     [][]byte // the last completed collective's contributions
	failed  *mpi.RankError
}

func newWorld(size int) []*worldRank {
	w := &world{size: size, in: make([][]byte, size)}
	w.cond = sync.NewCond(&w.mu)
	ranks := make([]*worldRank, size)
	for i := range ranks {
		ranks[i] = &worldRank{w: w, rank: i}
	}
	return ranks
}

// worldRank is one rank's Comm.
type worldRank struct {
	w    *world
	rank int
}

func (c *worldRank) Rank() int { return c.rank }
func (c *worldRank) Size() int { return c.w.size }

// gather is the one collective the others are made of.
func (c *worldRank) gather(b []byte) ([][]byte, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed != nil {
		return nil, w.failed
	}
	gen := w.gen
	w.in[c.rank] = append([]byte(nil), b...)
	w.arrived++
	if w.arrived == w.size {
		w.out, w.in, w.arrived = w.in, make([][]byte, w.size), 0
		w.gen++
		w.cond.Broadcast()
	}
	for w.gen == gen && w.failed == nil {
		w.cond.Wait()
	}
	if w.gen == gen {
		return nil, w.failed
	}
	return w.out, nil
}

func (c *worldRank) Allgather(b []byte) ([][]byte, error) { return c.gather(b) }

func (c *worldRank) AllreduceSum(buf []float32) error {
	all, err := c.gather(floatBytes(buf))
	if err != nil {
		return err
	}
	clear(buf)
	for _, b := range all {
		for i, v := range bytesFloat(b) {
			buf[i] += v
		}
	}
	return nil
}

func (c *worldRank) Agree(v uint64) (bool, error) {
	all, err := c.gather([]byte(fmt.Sprint(v)))
	if err != nil {
		return false, err
	}
	for _, b := range all {
		if !bytes.Equal(b, all[0]) {
			return false, nil
		}
	}
	return true, nil
}

func (c *worldRank) Fail(reason string) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed == nil {
		w.failed = &mpi.RankError{Rank: c.rank, Reason: reason}
	}
	w.cond.Broadcast()
}

func floatBytes(f []float32) []byte {
	b := make([]byte, 4*len(f))
	for i, v := range f {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func bytesFloat(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}
