package layers

// StateSpec describes one non-trained state tensor of a layer (PyTorch's
// registered buffers, e.g. BatchNorm's running_mean): the planner allocates
// it, the optimizer never updates it, and checkpoints save it under its
// state_dict name.
type StateSpec struct {
	Suffix string  // e.g. "running_mean"; the full name is layer name + "." + Suffix
	Shape  []int   // PyTorch shape
	Init   float32 // value every element starts from (0 for running_mean, 1 for running_var)
}

// Elems is the element count of the state tensor.
func (s StateSpec) Elems() int { return Shape(s.Shape).Elems() }

// Stateful is a Layer that owns non-trained state. Its passes find the
// state buffers in Ctx.S, in State() order; a forward pass in training mode
// may update them.
type Stateful interface {
	Layer
	// State lists the layer's state tensors.
	State() []StateSpec
}

// StateOf lists l's state tensors (none unless l is Stateful).
func StateOf(l Layer) []StateSpec {
	if s, ok := l.(Stateful); ok {
		return s.State()
	}
	return nil
}

// NamedState is one non-trained state tensor of a model.
type NamedState struct {
	Name  string // state_dict key, e.g. "bn.1.running_mean"
	Layer int    // index of the owning layer in Layers()
	StateSpec
}

// State lists every state tensor in layer order, as they follow the
// parameters of each layer in PyTorch's state_dict().
func (s *Sequential) State() []NamedState {
	var out []NamedState
	for i, l := range s.layers {
		for _, st := range StateOf(l) {
			out = append(out, NamedState{Name: l.Name() + "." + st.Suffix, Layer: i, StateSpec: st})
		}
	}
	return out
}
