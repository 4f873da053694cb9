// Package model makes the network a registered choice: an architecture
// (AlexNet, VGG-11, ...) registers itself under a name from its package's
// init function, validates its own options and builds a layers.Sequential
// whose layer names are the PyTorch state_dict prefixes. train, eval,
// predict, bench and summary build every model through New.
package model

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/crossgrad/crossgrad/layers"
)

// Options are the settings every architecture takes. Start from
// DefaultOptions.
type Options struct {
	InputSize int     // side of the square single-channel input (224)
	Width     float64 // multiplier of conv channels and hidden fc width (1)
	Dropout   float32 // drop probability of the dropout layers (0.5)
	Classes   int     // output classes (10)
	Seed      uint32  // dropout mask seed; the k-th dropout layer uses Seed+k
}

// DefaultOptions is input 224x224, width 1, dropout 0.5, 10 classes.
func DefaultOptions() Options {
	return Options{InputSize: 224, Width: 1, Dropout: 0.5, Classes: 10}
}

// Arch is one architecture: what a model package registers.
type Arch interface {
	// Name is the registry key and the value of the config key model,
	// e.g. "alexnet".
	Name() string
	// Title describes the architecture in one line for listings, e.g.
	// "the seed tutorial's AlexNet (46,764,746 parameters at 224x224)".
	Title() string
	// Validate checks o for this architecture (input size limits, width,
	// dropout); the error names the option, its value and what is allowed.
	Validate(o Options) error
	// Build returns the network for o, already validated.
	Build(o Options) (*layers.Sequential, error)
}

var (
	regMu    sync.Mutex
	registry = map[string]Arch{}
)

// Register makes a available under a.Name(). It panics when the name is
// empty or registered twice (a programmer error, as backend.Register).
func Register(a Arch) {
	regMu.Lock()
	defer regMu.Unlock()
	name := a.Name()
	if name == "" || name != strings.ToLower(name) {
		panic(fmt.Sprintf("model: Register: name %q must be non-empty and lower-case", name))
	}
	if _, dup := registry[name]; dup {
		panic("model: Register called twice for " + name)
	}
	registry[name] = a
}

// Names lists the registered architectures, sorted.
func Names() []string {
	regMu.Lock()
	defer regMu.Unlock()
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Lookup returns the architecture registered as name; an unknown name is an
// error listing the known ones.
func Lookup(name string) (Arch, error) {
	regMu.Lock()
	a, ok := registry[name]
	regMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("model: unknown model %q; known models: %s (set --model or the config key model)", name, strings.Join(Names(), ", "))
	}
	return a, nil
}

// Model is a built network: the Sequential, its architecture and the options
// it was built from.
type Model struct {
	*layers.Sequential
	Arch Arch
	Opts Options
}

// New looks up the architecture name, validates o for it and builds the
// model.
func New(name string, o Options) (*Model, error) {
	a, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	return Build(a, o)
}

// Build validates o for a and builds the model.
func Build(a Arch, o Options) (*Model, error) {
	if err := a.Validate(o); err != nil {
		return nil, err
	}
	seq, err := a.Build(o)
	if err != nil {
		return nil, err
	}
	return &Model{Sequential: seq, Arch: a, Opts: o}, nil
}

// Name is the architecture's registered name.
func (m *Model) Name() string { return m.Arch.Name() }

// InputShape is the model input [batch, 1, InputSize, InputSize].
func (m *Model) InputShape(batch int) layers.Shape {
	return layers.Shape{batch, 1, m.Opts.InputSize, m.Opts.InputSize}
}

// Summary writes the torchsummary-style table of the model: each layer's
// output shape [-1, C, H, W] and parameter count, then the totals.
func (m *Model) Summary(w io.Writer) error { return m.Sequential.Summary(w, m.InputShape(1)) }

// Describe names the model and the options that fix its parameter shapes,
// for messages and reports: "alexnet input_size 65, width 0.0625".
func (m *Model) Describe() string { return Describe(m.Name(), m.Opts) }

// Describe is Model.Describe for an architecture name and options.
func Describe(name string, o Options) string {
	return fmt.Sprintf("%s input_size %d, width %g", name, o.InputSize, o.Width)
}

// TensorNames lists the names of the tensors a checkpoint of the model
// holds: its trainable parameters in state_dict order.
func (m *Model) TensorNames() []string {
	ps := m.Params()
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

// Scaled is round(c*width), at least 1: the channel count of a width-scaled
// layer.
func Scaled(c int, width float64) int {
	return max(1, int(math.Round(float64(c)*width)))
}

// CheckCommon checks the options every architecture shares: a positive
// width, class count and input size, and dropout in [0, 1]. what prefixes
// the error ("alexnet").
func CheckCommon(what string, o Options) error {
	if !(o.Width > 0) || o.Classes < 1 || o.InputSize < 1 {
		return fmt.Errorf("%s: width %v, classes %d and input size %d must be positive", what, o.Width, o.Classes, o.InputSize)
	}
	if !(o.Dropout >= 0 && o.Dropout <= 1) {
		return fmt.Errorf("%s: dropout %v outside [0, 1]", what, o.Dropout)
	}
	return nil
}

// CheckInput builds the shapes of features (the layers up to the flatten)
// for an input of o.InputSize: a too small input is an error naming the
// option, the architecture's minimum and the first layer it does not fit.
// It returns the features' output shape for batch 1.
func CheckInput(what string, features *layers.Sequential, o Options, minSize int, why string) (layers.Shape, error) {
	out, err := features.OutShape(layers.Shape{1, 1, o.InputSize, o.InputSize})
	if err != nil {
		return nil, fmt.Errorf("%s: input_size %d is too small; allowed: at least %d (%s): %w", what, o.InputSize, minSize, why, err)
	}
	return out, nil
}
