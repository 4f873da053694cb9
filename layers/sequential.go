package layers

import (
	"fmt"
	"strconv"
)

// Sequential is an ordered list of layers run one after the other, as
// torch.nn.Sequential. Nested PyTorch containers are flattened: Add("conv",
// a, b) names a and b "conv.0" and "conv.1", matching the state_dict keys of
// a PyTorch attribute self.conv = nn.Sequential(a, b). The Sequential owns
// its layers (it renames them).
type Sequential struct{ layers []Layer }

// NewSequential returns an empty Sequential.
func NewSequential() *Sequential { return &Sequential{} }

// Add appends ls. With a non-empty prefix the layers are named prefix.0,
// prefix.1, ... by their position in this call; with an empty prefix a named
// layer keeps its name and an unnamed one is named by its position in the
// whole model.
func (s *Sequential) Add(prefix string, ls ...Layer) *Sequential {
	for i, l := range ls {
		switch {
		case prefix != "":
			l.SetName(prefix + "." + strconv.Itoa(i))
		case l.Name() == "":
			l.SetName(strconv.Itoa(len(s.layers)))
		}
		s.layers = append(s.layers, l)
	}
	return s
}

// Layers returns the layers in order (the slice is a copy; the layers are
// shared).
func (s *Sequential) Layers() []Layer { return append([]Layer(nil), s.layers...) }

// Shapes returns the L+1 activation shapes for input shape in: shapes[0] = in
// and shapes[i+1] the output of layer i. The error names the first layer
// whose input is invalid.
func (s *Sequential) Shapes(in Shape) ([]Shape, error) {
	if len(s.layers) == 0 {
		return nil, fmt.Errorf("sequential: no layers")
	}
	if len(in) == 0 || in[0] <= 0 {
		return nil, fmt.Errorf("sequential: input shape %v needs a positive batch size", []int(in))
	}
	for _, d := range in {
		if d <= 0 {
			return nil, fmt.Errorf("sequential: input shape %v has a non-positive dimension", []int(in))
		}
	}
	seen := map[string]bool{}
	shapes := []Shape{append(Shape(nil), in...)}
	for _, l := range s.layers {
		if seen[l.Name()] {
			return nil, fmt.Errorf("sequential: two layers named %q", l.Name())
		}
		seen[l.Name()] = true
		out, err := l.OutShape(shapes[len(shapes)-1])
		if err != nil {
			return nil, err
		}
		shapes = append(shapes, out)
	}
	return shapes, nil
}

// OutShape is the model output shape for input shape in.
func (s *Sequential) OutShape(in Shape) (Shape, error) {
	sh, err := s.Shapes(in)
	if err != nil {
		return nil, err
	}
	return sh[len(sh)-1], nil
}

// NamedParam is one trainable parameter of a model.
type NamedParam struct {
	Name  string // state_dict key, e.g. "conv.0.weight"
	Layer int    // index of the owning layer in Layers()
	ParamSpec
}

// Params lists every trainable parameter in layer order, as PyTorch's
// named_parameters().
func (s *Sequential) Params() []NamedParam {
	var ps []NamedParam
	for i, l := range s.layers {
		for _, p := range l.Params() {
			ps = append(ps, NamedParam{Name: l.Name() + "." + p.Suffix, Layer: i, ParamSpec: p})
		}
	}
	return ps
}

// ParamCount is the total number of trainable parameters (from shapes, no
// allocation).
func (s *Sequential) ParamCount() int {
	n := 0
	for _, p := range s.Params() {
		n += p.Elems()
	}
	return n
}
