package graph

import (
	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/layers"
)

// Optimizer updates the parameters from their gradients after the backward
// pass, keeping per-parameter state in buffers the plan allocates.
type Optimizer interface {
	// Type names the optimizer, e.g. "Adam".
	Type() string
	// Slots lists the state buffers kept per parameter, each as large as
	// its parameter and zero before the first step.
	Slots() []Slot
	// Update lists the dispatches of update number step (1-based) of one
	// parameter of elems values from its gradient, with its slots in Slots
	// order.
	Update(step, elems int, param, grad backend.Buffer, slots []backend.Buffer) []layers.Dispatch
}

// Slot is one per-parameter state buffer of an optimizer.
type Slot struct {
	Suffix string // the buffer is named parameter name + "." + Suffix, e.g. "conv.0.weight.adam_m"
	Kind   Kind
}

// Adam is torch.optim.Adam (no weight decay, no amsgrad) with its moments m
// and v as slots "adam_m" and "adam_v".
type Adam struct{ LR, Beta1, Beta2, Eps float64 }

// Type implements Optimizer.
func (Adam) Type() string { return "Adam" }

// Slots implements Optimizer: m then v.
func (Adam) Slots() []Slot {
	return []Slot{{Suffix: "adam_m", Kind: KindAdamM}, {Suffix: "adam_v", Kind: KindAdamV}}
}

// Update implements Optimizer: one adam dispatch over (param, grad, m, v).
func (a Adam) Update(step, elems int, param, grad backend.Buffer, slots []backend.Buffer) []layers.Dispatch {
	p := backend.NewAdam(elems, a.LR, a.Beta1, a.Beta2, a.Eps, step)
	return []layers.Dispatch{{P: p, Bufs: []backend.Buffer{param, grad, slots[0], slots[1]}}}
}
