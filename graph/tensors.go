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

// Params lists the parameter buffers in PyTorch named_parameters() order,
// named as the state_dict ("conv.0.weight"). The buffers stay plan-owned.
func (p *Plan) Params() []NamedTensor { return p.named(p.lo.param, "") }

// Grads lists the parameter-gradient buffers of the last training step,
// named "<param>.grad", in Params() order.
func (p *Plan) Grads() []NamedTensor { return p.named(p.lo.pgrad, ".grad") }

// Resized is the buffer of the resized model input [B, 1, H, W] of the last
// step (the first op of a step writes it).
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

// ReadTensors copies ts (from Params, Grads or Resized) to the host.
func (p *Plan) ReadTensors(ts []NamedTensor) ([]HostTensor, error) { return p.read(ts) }

// ReadParams copies every parameter to the host, in Params() order.
func (p *Plan) ReadParams() ([]HostTensor, error) { return p.read(p.Params()) }

// LoadParams writes parameters by name. Every parameter of the plan must be
// present exactly once with its shape (as PyTorch's strict load_state_dict).
func (p *Plan) LoadParams(ts []HostTensor) error {
	return p.load(ts, p.lo.param, "")
}

func (p *Plan) load(ts []HostTensor, idx []int, what string) error {
	if err := p.usable(); err != nil {
		return err
	}
	byName := map[string]int{}
	for i, np := range p.params {
		byName[np.Name] = i
	}
	seen := make([]bool, len(p.params))
	for _, t := range ts {
		i, ok := byName[t.Name]
		if !ok {
			return fmt.Errorf("graph: loading%s: unknown parameter %q", what, t.Name)
		}
		if seen[i] {
			return fmt.Errorf("graph: loading%s: parameter %q given twice", what, t.Name)
		}
		seen[i] = true
		want := p.params[i]
		if !equalShape(t.Shape, want.Shape) || len(t.Data) != want.Elems() {
			return fmt.Errorf("graph: loading%s %s: shape %v with %d values, want %v", what, t.Name, t.Shape, len(t.Data), want.Shape)
		}
	}
	for i, s := range seen {
		if !s {
			return fmt.Errorf("graph: loading%s: parameter %q missing", what, p.params[i].Name)
		}
	}
	for _, t := range ts {
		i := byName[t.Name]
		if err := p.dev.Write(p.bufs[idx[i]], 0, t.Data); err != nil {
			return fmt.Errorf("graph: writing%s %s: %w", what, t.Name, err)
		}
	}
	return nil
}

// ReadAdam copies the Adam state to the host; M and V are named after their
// parameters.
func (p *Plan) ReadAdam() (AdamState, error) {
	m, err := p.read(p.named(p.lo.adamM, ""))
	if err != nil {
		return AdamState{}, err
	}
	v, err := p.read(p.named(p.lo.adamV, ""))
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
	if err := p.load(s.M, p.lo.adamM, " adam m"); err != nil {
		return err
	}
	if err := p.load(s.V, p.lo.adamV, " adam v"); err != nil {
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
