package graph

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
)

// Shard is the part of a global batch that one replica trains on: images
// [Offset, Offset+N) of a global batch of Global images (0 <= Offset,
// 1 <= N, Offset+N <= Global). TrainStep is the shard {0, n, n}.
type Shard struct{ Offset, N, Global int }

// TrainShard runs the forward and backward passes of training step `step`
// (1-based) on the first s.N images of Input/Labels, which are images
// s.Offset.. of the global batch: the dropout masks are drawn at the global
// element index (image index s.Offset+i), so they do not depend on how the
// global batch is split. It leaves in the parameter gradients d(mean loss
// over the shard's N images)/d(param), does not update any parameter and
// does not advance Step; one Read of the statistics (over the shard).
func (p *Plan) TrainShard(step int, s Shard) (Stats, error) {
	if err := p.usable(); err != nil {
		return Stats{}, err
	}
	if err := checkStep(step); err != nil {
		return Stats{}, err
	}
	if err := s.check(p.lo.Batch); err != nil {
		return Stats{}, err
	}
	if err := p.run(p.passes(s.N, true, step, uint32(s.Offset))); err != nil {
		return Stats{}, err
	}
	return p.readStats(s.N)
}

// GradLen is the number of float32 elements of all parameter gradients
// together, in Params order: the length ReadGrads and WriteGrads take.
func (p *Plan) GradLen() int {
	n := 0
	for _, np := range p.params {
		n += np.Elems()
	}
	return n
}

// ReadGrads copies every parameter gradient, in Params order, into dst
// (len GradLen; caller-owned), after the queued work.
func (p *Plan) ReadGrads(dst []float32) error {
	if err := p.gradsCheck(len(dst), "ReadGrads"); err != nil {
		return err
	}
	off := 0
	for i, np := range p.params {
		e := np.Elems()
		if err := p.dev.Read(p.bufs[p.lo.pgrad[i]], 0, dst[off:off+e]); err != nil {
			return fmt.Errorf("graph: reading %s.grad: %w", np.Name, err)
		}
		off += e
	}
	return nil
}

// WriteGrads overwrites every parameter gradient, in Params order, with src
// (len GradLen; not retained).
func (p *Plan) WriteGrads(src []float32) error {
	if err := p.gradsCheck(len(src), "WriteGrads"); err != nil {
		return err
	}
	off := 0
	for i, np := range p.params {
		e := np.Elems()
		if err := p.dev.Write(p.bufs[p.lo.pgrad[i]], 0, src[off:off+e]); err != nil {
			return fmt.Errorf("graph: writing %s.grad: %w", np.Name, err)
		}
		off += e
	}
	return nil
}

// Update queues the optimizer update of every parameter with t = step
// (1-based) from the gradients in place (the update parts of
// TrainStepParts) and records step as the last completed one.
func (p *Plan) Update(step int) error {
	if err := p.usable(); err != nil {
		return err
	}
	if err := checkStep(step); err != nil {
		return err
	}
	if err := p.run(p.updates(step)); err != nil {
		return err
	}
	p.step = step
	return nil
}

// Checksum is a 64-bit FNV-1a hash of the bits of every parameter and every
// optimizer slot, in Params order (one Read per tensor): two replicas that
// applied the same updates to the same start have equal checksums.
func (p *Plan) Checksum() (uint64, error) {
	if err := p.usable(); err != nil {
		return 0, err
	}
	h := fnv.New64a()
	var word [4]byte
	for i, np := range p.params {
		for _, b := range append([]int{p.lo.param[i]}, p.lo.slots[i]...) {
			d := make([]float32, np.Elems())
			if err := p.dev.Read(p.bufs[b], 0, d); err != nil {
				return 0, fmt.Errorf("graph: checksum: reading %s: %w", p.lo.Buffers[b].Name, err)
			}
			for _, v := range d {
				binary.LittleEndian.PutUint32(word[:], math.Float32bits(v))
				h.Write(word[:])
			}
		}
	}
	return h.Sum64(), nil
}

// check validates s against a plan of batch capacity batch.
func (s Shard) check(batch int) error {
	switch {
	case s.Global < 1 || s.Global > math.MaxUint32:
		return fmt.Errorf("graph: shard %+v: Global must be in [1, 2^32), the global batch size", s)
	case s.N < 1:
		return fmt.Errorf("graph: shard %+v: N must be at least 1 image", s)
	case s.Offset < 0 || s.Offset > s.Global-s.N:
		return fmt.Errorf("graph: shard %+v: need 0 <= Offset and Offset+N <= Global", s)
	case s.N > batch:
		return fmt.Errorf("graph: shard %+v: N exceeds the plan's batch of %d images; plan a larger batch", s, batch)
	}
	return nil
}

func (p *Plan) gradsCheck(n int, what string) error {
	if err := p.usable(); err != nil {
		return err
	}
	if want := p.GradLen(); n != want {
		return fmt.Errorf("graph: %s of %d values, the plan's gradients hold GradLen() = %d", what, n, want)
	}
	return nil
}
