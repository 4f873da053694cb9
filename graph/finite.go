package graph

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// NonFiniteTensor is a plan tensor holding Count NaN or infinite values out
// of Elems.
type NonFiniteTensor struct {
	Name         string // "conv.3.weight", "conv.3.weight.adam_m", "conv.3.weight.adam_v"
	Count, Elems int
}

// String is "name (count of elems values)".
func (t NonFiniteTensor) String() string {
	return fmt.Sprintf("%s (%d of %d values)", t.Name, t.Count, t.Elems)
}

// NonFinite counts, on the device, the NaN and infinite values of every
// parameter, of the optimizer's slots (Adam's moments m and v) and of the
// layers' state: one count_nonfinite dispatch per tensor into a small buffer
// of counts, then a single Read of that buffer. It returns the tensors
// holding any: parameters first, then each slot in turn (m, then v), each in
// Params() order, then the state; none when all are finite.
func (p *Plan) NonFinite() ([]NonFiniteTensor, error) {
	if err := p.usable(); err != nil {
		return nil, err
	}
	idx := append([]int(nil), p.lo.param...)
	for k := range p.lo.cfg.Optimizer.Slots() {
		for _, sl := range p.lo.slots {
			idx = append(idx, sl[k])
		}
	}
	idx = append(idx, p.lo.state...)
	counts, err := p.dev.Alloc(len(idx))
	if err != nil {
		return nil, fmt.Errorf("graph: non-finite check: %w", err)
	}
	defer counts.Release()
	for slot, b := range idx {
		q := backend.CountNonfinite{N: uint32(p.lo.Buffers[b].Elems), Slot: uint32(slot)}
		if err := p.dev.Dispatch(q, p.bufs[b], counts); err != nil {
			return nil, fmt.Errorf("graph: non-finite check of %s: %w", p.lo.Buffers[b].Name, err)
		}
	}
	got := make([]float32, len(idx))
	if err := p.dev.Read(counts, 0, got); err != nil {
		return nil, fmt.Errorf("graph: non-finite check: reading the counts: %w", err)
	}
	var out []NonFiniteTensor
	for slot, b := range idx {
		if got[slot] != 0 {
			spec := p.lo.Buffers[b]
			out = append(out, NonFiniteTensor{Name: spec.Name, Count: int(got[slot]), Elems: spec.Elems})
		}
	}
	return out, nil
}
