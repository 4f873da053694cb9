package graph

import (
	"fmt"
	"math"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/layers"
)

// Phases of a training step, as Part.Phase names them.
const (
	PhaseForward  = "forward"  // resize, layer forward passes, loss
	PhaseBackward = "backward" // layer backward passes
	PhaseUpdate   = "update"   // Adam updates of a layer's parameters
)

// Part is one slice of a training step: the dispatches of one layer (or the
// input resize, or the loss) in one phase, over plan-owned buffers.
type Part struct {
	Layer      string // layer name ("conv.0", "fc.6"), "input" (resize) or "loss"
	Type       string // layer type ("Conv2d", "ReLU"), "Resize" or "CrossEntropyLoss"
	Phase      string // PhaseForward, PhaseBackward or PhaseUpdate
	Dispatches []layers.Dispatch
}

// TrainStepParts returns the dispatches of training step `step` on n
// images, in order, grouped into parts, without queueing anything: it is the
// one definition of a step, which TrainStep dispatches part by part before
// its single ReadStats. Dispatching the parts yourself does not advance the
// plan's step counter. Profilers use it to time a step layer by layer; the buffers stay
// plan-owned and are valid until Close.
func (p *Plan) TrainStepParts(step, n int) ([]Part, error) {
	if err := p.check(n); err != nil {
		return nil, err
	}
	if step < 1 || step > math.MaxUint32 {
		return nil, fmt.Errorf("graph: training step %d must be in [1, 2^32)", step)
	}
	lo, c, s := p.lo, p.lo.cfg, uint32(step)
	rs := backend.ResizeBilinear{N: uint32(n), InH: uint32(c.SrcH), InW: uint32(c.SrcW),
		OutH: uint32(lo.Input[2]), OutW: uint32(lo.Input[3]), Packed: 1}
	parts := []Part{{Layer: "input", Type: "Resize", Phase: PhaseForward,
		Dispatches: []layers.Dispatch{{P: rs, Bufs: []backend.Buffer{p.Input(), p.bufs[lo.act[0]]}}}}}
	for i, l := range p.layers {
		if ds := l.Forward(p.ctx(i, n, true, s)); len(ds) > 0 {
			parts = append(parts, Part{Layer: l.Name(), Type: l.Type(), Phase: PhaseForward, Dispatches: ds})
		}
	}
	L := len(p.layers)
	d := lo.loss.Forward(n, p.bufs[lo.act[L]], p.Labels(), p.bufs[lo.grad[L]], p.bufs[lo.stats])
	parts = append(parts, Part{Layer: "loss", Type: "CrossEntropyLoss", Phase: PhaseForward, Dispatches: []layers.Dispatch{d}})
	for i := L - 1; i >= 0; i-- {
		if lo.grad[i+1] < 0 {
			break
		}
		l := p.layers[i]
		if ds := l.Backward(p.ctx(i, n, true, s)); len(ds) > 0 {
			parts = append(parts, Part{Layer: l.Name(), Type: l.Type(), Phase: PhaseBackward, Dispatches: ds})
		}
	}
	byLayer := map[int]int{} // layer index -> index of its update part
	for i, np := range p.params {
		a := backend.NewAdam(np.Elems(), c.LR, c.Beta1, c.Beta2, c.Eps, step)
		dd := layers.Dispatch{P: a, Bufs: []backend.Buffer{p.bufs[lo.param[i]], p.bufs[lo.pgrad[i]], p.bufs[lo.adamM[i]], p.bufs[lo.adamV[i]]}}
		k, ok := byLayer[np.Layer]
		if !ok {
			l := p.layers[np.Layer]
			k = len(parts)
			byLayer[np.Layer] = k
			parts = append(parts, Part{Layer: l.Name(), Type: l.Type(), Phase: PhaseUpdate})
		}
		parts[k].Dispatches = append(parts[k].Dispatches, dd)
	}
	return parts, nil
}

// ReadStats reads the statistics of the last step's first n images (the
// single Read that ends TrainStep and EvalStep).
func (p *Plan) ReadStats(n int) (Stats, error) {
	if err := p.check(n); err != nil {
		return Stats{}, err
	}
	return p.readStats(n)
}
