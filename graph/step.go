package graph

import (
	"fmt"
	"math"

	"github.com/crossgrad/crossgrad/layers"
)

// Phases of a step, as Part.Phase names them.
const (
	PhaseForward  = "forward"  // input stage, layer forward passes, loss
	PhaseBackward = "backward" // layer backward passes
	PhaseUpdate   = "update"   // optimizer updates of a layer's parameters
)

// Part is one slice of a step: the dispatches of one layer (or of the input
// stage, or of the loss) in one phase, over plan-owned buffers.
type Part struct {
	Layer      string // layer name ("conv.0", "fc.6"), "input" (input stage) or "loss"
	Type       string // layer type ("Conv2d", "ReLU"), the input stage's ("Resize") or the loss's ("CrossEntropyLoss")
	Phase      string // PhaseForward, PhaseBackward or PhaseUpdate
	Dispatches []layers.Dispatch
}

// TrainStepParts returns the dispatches of training step `step` on n
// images, in order, grouped into parts, without queueing anything: the
// forward parts of steps (as EvalParts, but with dropout active), then the
// backward and update parts. TrainStep dispatches them before its single
// ReadStats. Dispatching the parts yourself does not advance the plan's step
// counter. Profilers use it to time a step layer by layer; the buffers stay
// plan-owned and are valid until Close.
func (p *Plan) TrainStepParts(step, n int) ([]Part, error) {
	if err := p.check(n); err != nil {
		return nil, err
	}
	if err := checkStep(step); err != nil {
		return nil, err
	}
	return p.steps(n, true, step), nil
}

// EvalParts returns the forward parts on n images in evaluation mode
// (dropout off), without queueing anything: what EvalStep dispatches.
func (p *Plan) EvalParts(n int) ([]Part, error) {
	if err := p.check(n); err != nil {
		return nil, err
	}
	return p.steps(n, false, 0), nil
}

// steps is the one definition of a step over the first n images: the
// passes (see passes) and, when training, one optimizer update of every
// parameter, grouped by layer.
func (p *Plan) steps(n int, train bool, step int) []Part {
	parts := p.passes(n, train, step, 0)
	if !train {
		return parts
	}
	return append(parts, p.updates(step)...)
}

// passes are the input stage, each layer's forward pass and the loss on the
// first n images, which are images imageOffset.. of the global batch (the
// dropout masks' index); when training, then the backward passes from the
// logits down to the first layer with parameters.
func (p *Plan) passes(n int, train bool, step int, imageOffset uint32) []Part {
	lo, c := p.lo, p.lo.cfg
	s := uint32(step)
	ctx := func(i int) *layers.Ctx {
		x := p.ctx(i, n, train, s)
		x.ImageOffset = imageOffset
		return x
	}
	parts := []Part{{Layer: "input", Type: c.Input.Type(), Phase: PhaseForward,
		Dispatches: c.Input.Forward(n, lo.Input.WithBatch(n), p.pick(lo.inBufs), p.bufs[lo.act[0]])}}
	for i, l := range p.layers {
		if i > 0 && p.FusesRelu(i-1) {
			continue
		}
		x := ctx(i)
		x.Winograd, x.Winograd4 = p.winograd(i, PassForward), p.winograd4(i, PassForward)
		x.FuseRelu = p.FusesRelu(i)
		if ds := l.Forward(x); len(ds) > 0 {
			parts = append(parts, Part{Layer: l.Name(), Type: l.Type(), Phase: PhaseForward, Dispatches: ds})
		}
	}
	L := len(p.layers)
	parts = append(parts, Part{Layer: "loss", Type: c.Loss.Type(), Phase: PhaseForward,
		Dispatches: c.Loss.Forward(n, p.bufs[lo.act[L]], p.bufs[lo.grad[L]], p.pick(lo.lossBufs))})
	if !train {
		return parts
	}
	for i := L - 1; i >= 0; i-- {
		if lo.grad[i+1] < 0 {
			break
		}
		if p.MasksRelu(i - 1) {
			continue
		}
		l := p.layers[i]
		x := ctx(i)
		x.Winograd, x.Winograd4 = p.winograd(i, PassBackwardData), p.winograd4(i, PassBackwardData)
		x.WinogradGrad, x.WinogradGrad4 = p.winograd(i, PassBackwardFilter), p.winograd4(i, PassBackwardFilter)
		x.MaskRelu = p.MasksRelu(i)
		if ds := l.Backward(x); len(ds) > 0 {
			parts = append(parts, Part{Layer: l.Name(), Type: l.Type(), Phase: PhaseBackward, Dispatches: ds})
		}
	}
	return parts
}

// updates are the optimizer updates with t = step of every parameter from
// its gradient, one part per layer with parameters.
func (p *Plan) updates(step int) []Part {
	lo, c := p.lo, p.lo.cfg
	var parts []Part
	byLayer := map[int]int{} // layer index -> index of its update part
	for i, np := range p.params {
		ds := c.Optimizer.Update(step, np.Elems(), p.bufs[lo.param[i]], p.bufs[lo.pgrad[i]], p.pick(lo.slots[i]))
		k, ok := byLayer[np.Layer]
		if !ok {
			l := p.layers[np.Layer]
			k = len(parts)
			byLayer[np.Layer] = k
			parts = append(parts, Part{Layer: l.Name(), Type: l.Type(), Phase: PhaseUpdate})
		}
		parts[k].Dispatches = append(parts[k].Dispatches, ds...)
	}
	return parts
}

func (p *Plan) ctx(i, n int, train bool, step uint32) *layers.Ctx {
	lo := p.lo
	c := &layers.Ctx{In: lo.Shapes[i].WithBatch(n), Out: lo.Shapes[i+1].WithBatch(n),
		X: p.bufs[lo.act[i]], Y: p.bufs[lo.act[i+1]], Train: train, Step: step}
	if g := lo.grad[i+1]; g >= 0 {
		c.DY = p.bufs[g]
	}
	if g := lo.grad[i]; g >= 0 {
		c.DX = p.bufs[g]
	}
	for k, np := range p.params {
		if np.Layer == i {
			c.W = append(c.W, p.bufs[lo.param[k]])
			c.G = append(c.G, p.bufs[lo.pgrad[k]])
		}
	}
	c.Aux = p.pick(lo.aux[i])
	c.Scratch = p.pick(lo.scratch)
	for k, s := range lo.states {
		if s.Layer == i {
			c.S = append(c.S, p.bufs[lo.state[k]])
		}
	}
	return c
}

func checkStep(step int) error {
	if step < 1 || step > math.MaxUint32 {
		return fmt.Errorf("graph: training step %d must be in [1, 2^32)", step)
	}
	return nil
}

// ReadStats reads the statistics of the last step's first n images (the
// single Read that ends TrainStep and EvalStep).
func (p *Plan) ReadStats(n int) (Stats, error) {
	if err := p.check(n); err != nil {
		return Stats{}, err
	}
	return p.readStats(n)
}
