package graph

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/layers"
)

// NamedTensor is a plan-owned device buffer with its PyTorch name and shape.
// The buffer may be larger than the shape (activations planned for the full
// batch); the first Shape.Elems() elements hold the tensor.
type NamedTensor struct {
	Name   string
	Shape  []int
	Buffer backend.Buffer
}

// HostTensor is a named tensor copied to host memory; Data holds
// product(Shape) float32 values, row-major. The caller owns Data.
type HostTensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// AdamState is the optimiser state of every parameter: the last completed
// step t and the moments m and v, in Params() order.
type AdamState struct {
	Step int
	M, V []HostTensor
}

func (p *Plan) named(idx []int, suffix string) []NamedTensor {
	out := make([]NamedTensor, len(p.params))
	for i, np := range p.params {
		out[i] = NamedTensor{Name: np.Name + suffix, Shape: append([]int(nil), np.Shape...), Buffer: p.bufs[idx[i]]}
	}
	return out
}

// Tensor returns the plan buffer named name (any of Layout.Buffers, e.g.
// "act.conv.0", "conv.0.weight.grad", "fc.6.bias.adam_m") with its tensor
// shape at the planned batch. The buffer stays plan-owned.
func (p *Plan) Tensor(name string) (NamedTensor, error) {
	if err := p.usable(); err != nil {
		return NamedTensor{}, err
	}
	i, ok := p.lo.byName[name]
	if !ok {
		return NamedTensor{}, fmt.Errorf("graph: the plan has no buffer named %q (see Layout.Buffers)", name)
	}
	return NamedTensor{Name: name, Shape: append([]int(nil), p.lo.shapes[i]...), Buffer: p.bufs[i]}, nil
}

// Params lists the parameter buffers in PyTorch named_parameters() order,
// named as the state_dict ("conv.0.weight"). The buffers stay plan-owned.
func (p *Plan) Params() []NamedTensor { return p.named(p.lo.param, "") }

// Grads lists the parameter-gradient buffers of the last training step,
// named "<param>.grad", in Params() order.
func (p *Plan) Grads() []NamedTensor { return p.named(p.lo.pgrad, ".grad") }

// State lists the buffers of the layers' non-trained state (see
// layers.Stateful) in layers.Sequential.State() order, named as the
// state_dict ("bn.1.running_mean"). The buffers stay plan-owned.
func (p *Plan) State() []NamedTensor {
	out := make([]NamedTensor, len(p.lo.states))
	for i, s := range p.lo.states {
		out[i] = NamedTensor{Name: s.Name, Shape: append([]int(nil), s.Shape...), Buffer: p.bufs[p.lo.state[i]]}
	}
	return out
}

// stateDict lists parameters and state in PyTorch state_dict() order: layer
// by layer, its parameters then its state.
func (p *Plan) stateDict() []NamedTensor {
	params, state := p.Params(), p.State()
	var out []NamedTensor
	for i := range p.layers {
		for k, np := range p.params {
			if np.Layer == i {
				out = append(out, params[k])
			}
		}
		for k, s := range p.lo.states {
			if s.Layer == i {
				out = append(out, state[k])
			}
		}
	}
	return out
}

// Resized is the buffer of the model input [B, C, H, W] of the last step
// (the input stage, first op of a step, writes it).
func (p *Plan) Resized() NamedTensor {
	return NamedTensor{Name: "act.input", Shape: append([]int(nil), p.lo.Input...), Buffer: p.bufs[p.lo.act[0]]}
}

func (p *Plan) read(ts []NamedTensor) ([]HostTensor, error) {
	if err := p.usable(); err != nil {
		return nil, err
	}
	out := make([]HostTensor, len(ts))
	for i, t := range ts {
		d := make([]float32, layers.Shape(t.Shape).Elems())
		if err := p.dev.Read(t.Buffer, 0, d); err != nil {
			return nil, fmt.Errorf("graph: reading %s: %w", t.Name, err)
		}
		out[i] = HostTensor{Name: t.Name, Shape: t.Shape, Data: d}
	}
	return out, nil
}

// ReadTensors copies ts (from Params, Grads, State, Resized or Tensor) to
// the host.
func (p *Plan) ReadTensors(ts []NamedTensor) ([]HostTensor, error) { return p.read(ts) }

// ReadParams copies every parameter to the host, in Params() order.
func (p *Plan) ReadParams() ([]HostTensor, error) { return p.read(p.Params()) }

// LoadParams writes parameters by name. Every parameter of the plan must be
// present exactly once with its shape (as PyTorch's strict load_state_dict).
func (p *Plan) LoadParams(ts []HostTensor) error { return p.load(ts, p.Params(), "", "parameter") }

// ReadState copies the layers' non-trained state to the host, in State()
// order (none for a model without Stateful layers).
func (p *Plan) ReadState() ([]HostTensor, error) { return p.read(p.State()) }

// LoadState writes the layers' state by name; every state tensor must be
// present exactly once with its shape.
func (p *Plan) LoadState(ts []HostTensor) error { return p.load(ts, p.State(), "", "state tensor") }

// ReadStateDict copies the parameters and the state to the host in
// PyTorch's state_dict() order, as a model file stores them; without state
// it is ReadParams.
func (p *Plan) ReadStateDict() ([]HostTensor, error) { return p.read(p.stateDict()) }

// LoadStateDict writes parameters and state by name, strictly (every one
// present exactly once with its shape): the inverse of ReadStateDict.
func (p *Plan) LoadStateDict(ts []HostTensor) error {
	return p.load(ts, p.stateDict(), "", "parameter or state tensor")
}

// load writes ts into the plan tensors into, matched by name, after
// checking that ts holds every one of them exactly once with its shape.
func (p *Plan) load(ts []HostTensor, into []NamedTensor, what, noun string) error {
	if err := p.usable(); err != nil {
		return err
	}
	byName := map[string]int{}
	for i, t := range into {
		byName[t.Name] = i
	}
	seen := make([]bool, len(into))
	for _, t := range ts {
		i, ok := byName[t.Name]
		if !ok {
			return fmt.Errorf("graph: loading%s: unknown %s %q", what, noun, t.Name)
		}
		if seen[i] {
			return fmt.Errorf("graph: loading%s: %s %q given twice", what, noun, t.Name)
		}
		seen[i] = true
		want := into[i]
		if !equalShape(t.Shape, want.Shape) || len(t.Data) != layers.Shape(want.Shape).Elems() {
			return fmt.Errorf("graph: loading%s %s: shape %v with %d values, want %v", what, t.Name, t.Shape, len(t.Data), want.Shape)
		}
	}
	for i, s := range seen {
		if !s {
			return fmt.Errorf("graph: loading%s: %s %q missing", what, noun, into[i].Name)
		}
	}
	for _, t := range ts {
		if err := p.dev.Write(into[byName[t.Name]].Buffer, 0, t.Data); err != nil {
			return fmt.Errorf("graph: writing%s %s: %w", what, t.Name, err)
		}
	}
	return nil
}

// adamSlots returns the buffers of the optimizer slots of kinds KindAdamM
// and KindAdamV per parameter, or an error when the optimizer keeps none.
func (p *Plan) adamSlots() (m, v []int, err error) {
	mi, vi := -1, -1
	for i, s := range p.lo.cfg.Optimizer.Slots() {
		switch s.Kind {
		case KindAdamM:
			mi = i
		case KindAdamV:
			vi = i
		}
	}
	if mi < 0 || vi < 0 {
		return nil, nil, fmt.Errorf("graph: the optimizer %s keeps no Adam moments", p.lo.cfg.Optimizer.Type())
	}
	for _, sl := range p.lo.slots {
		m, v = append(m, sl[mi]), append(v, sl[vi])
	}
	return m, v, nil
}

// ReadAdam copies the Adam state to the host; M and V are named after their
// parameters.
func (p *Plan) ReadAdam() (AdamState, error) {
	mi, vi, err := p.adamSlots()
	if err != nil {
		return AdamState{}, err
	}
	m, err := p.read(p.named(mi, ""))
	if err != nil {
		return AdamState{}, err
	}
	v, err := p.read(p.named(vi, ""))
	if err != nil {
		return AdamState{}, err
	}
	return AdamState{Step: p.step, M: m, V: v}, nil
}

// LoadAdam restores Adam state saved by ReadAdam; the next TrainStep should
// use step s.Step+1.
func (p *Plan) LoadAdam(s AdamState) error {
	if s.Step < 0 {
		return fmt.Errorf("graph: Adam step %d is negative", s.Step)
	}
	mi, vi, err := p.adamSlots()
	if err != nil {
		return err
	}
	if err := p.load(s.M, p.named(mi, ""), " adam m", "parameter"); err != nil {
		return err
	}
	if err := p.load(s.V, p.named(vi, ""), " adam v", "parameter"); err != nil {
		return err
	}
	p.step = s.Step
	return nil
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
