// Package layertest holds layers for tests of the planner and of
// checkpoints: they exercise what no production layer uses yet.
package layertest

import (
	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/layers"
)

// StepTracker is a Stateful layer for tests: a view of its input (it
// dispatches nothing on the data) owning one state tensor of two floats,
// named by Suffix ("<layer>.last_step" by default), which starts at -1 and
// which every training forward pass sets to the step; evaluation leaves it.
type StepTracker struct {
	name   string
	Suffix string
}

// NewStepTracker returns an unnamed StepTracker whose state is "last_step".
func NewStepTracker() *StepTracker { return &StepTracker{Suffix: "last_step"} }

// Name implements layers.Layer.
func (l *StepTracker) Name() string { return l.name }

// SetName implements layers.Layer.
func (l *StepTracker) SetName(name string) { l.name = name }

// Type implements layers.Layer.
func (*StepTracker) Type() string { return "StepTracker" }

// String implements layers.Layer.
func (l *StepTracker) String() string { return l.name + " (StepTracker)" }

// OutShape implements layers.Layer: the input shape.
func (*StepTracker) OutShape(in layers.Shape) (layers.Shape, error) {
	return append(layers.Shape(nil), in...), nil
}

// Params implements layers.Layer (none).
func (*StepTracker) Params() []layers.ParamSpec { return nil }

// AuxSizes implements layers.Layer (none).
func (*StepTracker) AuxSizes(layers.Shape) []int { return nil }

// Flags implements layers.Layer: a view.
func (*StepTracker) Flags() layers.Flags { return layers.Flags{Alias: true} }

// State implements layers.Stateful: [2] starting at -1.
func (l *StepTracker) State() []layers.StateSpec {
	return []layers.StateSpec{{Suffix: l.Suffix, Shape: []int{2}, Init: -1}}
}

// Forward implements layers.Layer: in training, fill the state with the step.
func (*StepTracker) Forward(c *layers.Ctx) []layers.Dispatch {
	if !c.Train {
		return nil
	}
	return []layers.Dispatch{{P: backend.Fill{N: 2, Value: float32(c.Step)}, Bufs: []backend.Buffer{c.S[0]}}}
}

// Backward implements layers.Layer (nothing: a view).
func (*StepTracker) Backward(*layers.Ctx) []layers.Dispatch { return nil }

// TrackedModel is track.0 (StepTracker), flatten, fc.0 (Linear 16->3): a
// model with one state tensor, "track.0.last_step", for 1x4x4 inputs.
func TrackedModel() *layers.Sequential {
	return layers.NewSequential().Add("track", NewStepTracker()).
		Add("", layers.NewFlatten()).Add("fc", layers.NewLinear(16, 3))
}
