package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Metadata keys of the state file and of the model file written by
// SaveCheckpoint.
const (
	MetaFormat = "format"     // StateFormat in state files
	MetaStep   = "step"       // optimizer steps taken
	MetaEpoch  = "epoch"      // epoch in progress, from 0
	MetaBatch  = "batch"      // next batch within the epoch
	MetaConfig = "config"     // the run's configuration, opaque text
	MetaParams = "parameters" // comma-separated parameter names, in order
	// MetaNonTrained (model file) lists, comma-separated, the tensors that
	// are non-trained layer state: they have no moments in the state file.
	MetaNonTrained = "non_trained"
	// StateFormat identifies the state file layout; bump it when the
	// layout or the data order (shuffle, RNG) changes.
	StateFormat = "crossgrad-adam-v1"
)

// State is the optimizer and training position saved beside a model file.
// M and V are Adam's first and second moments, one per parameter and named
// as the parameter. Config is opaque here (the trainer stores
// config.Config.JSON()). Extra holds other metadata; its keys must not
// clash with the Meta* keys.
type State struct {
	Step   int64
	Epoch  int
	Batch  int
	Config string
	M, V   []Tensor
	Extra  map[string]string
}

// StatePath is the state file beside a model file: "x.safetensors" ->
// "x.state.safetensors".
func StatePath(modelPath string) string {
	return strings.TrimSuffix(modelPath, ".safetensors") + ".state.safetensors"
}

// SaveState writes s atomically as safetensors: tensors "m.<name>" and
// "v.<name>", the position and config in the metadata.
func SaveState(path string, s State) error {
	if len(s.M) != len(s.V) {
		return fmt.Errorf("checkpoint: state %s: %d first moments but %d second moments", path, len(s.M), len(s.V))
	}
	if s.Step < 0 || s.Epoch < 0 || s.Batch < 0 {
		return fmt.Errorf("checkpoint: state %s: negative position step %d epoch %d batch %d", path, s.Step, s.Epoch, s.Batch)
	}
	meta := map[string]string{}
	for k, v := range s.Extra {
		meta[k] = v
	}
	for k, v := range map[string]string{
		MetaFormat: StateFormat,
		MetaStep:   strconv.FormatInt(s.Step, 10),
		MetaEpoch:  strconv.Itoa(s.Epoch),
		MetaBatch:  strconv.Itoa(s.Batch),
		MetaConfig: s.Config,
	} {
		if _, clash := s.Extra[k]; clash {
			return fmt.Errorf("checkpoint: state %s: Extra key %q is reserved", path, k)
		}
		meta[k] = v
	}
	names := make([]string, len(s.M))
	ts := make([]Tensor, 0, 2*len(s.M))
	for i, m := range s.M {
		v := s.V[i]
		if m.Name != v.Name || !sameShape(m.Shape, v.Shape) {
			return fmt.Errorf("checkpoint: state %s: moment %d: m is %s %v but v is %s %v", path, i, m.Name, m.Shape, v.Name, v.Shape)
		}
		if strings.Contains(m.Name, ",") {
			return fmt.Errorf("checkpoint: state %s: parameter name %q contains a comma", path, m.Name)
		}
		names[i] = m.Name
		ts = append(ts, Tensor{Name: "m." + m.Name, Shape: m.Shape, Data: m.Data})
	}
	for _, v := range s.V {
		ts = append(ts, Tensor{Name: "v." + v.Name, Shape: v.Shape, Data: v.Data})
	}
	meta[MetaParams] = strings.Join(names, ",")
	return Save(path, ts, meta)
}

// LoadState reads a file written by SaveState.
func LoadState(path string) (State, error) {
	ts, meta, err := Load(path)
	if err != nil {
		return State{}, err
	}
	bad := func(format string, a ...any) (State, error) {
		return State{}, fmt.Errorf("checkpoint: state %s: %s", path, fmt.Sprintf(format, a...))
	}
	if meta[MetaFormat] != StateFormat {
		return bad("format %q, want %q (written by another version; start a new run or convert it)", meta[MetaFormat], StateFormat)
	}
	var s State
	var errs []error
	s.Step, err = strconv.ParseInt(meta[MetaStep], 10, 64)
	errs = append(errs, err)
	s.Epoch, err = strconv.Atoi(meta[MetaEpoch])
	errs = append(errs, err)
	s.Batch, err = strconv.Atoi(meta[MetaBatch])
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil || s.Step < 0 || s.Epoch < 0 || s.Batch < 0 {
		return bad("bad position metadata step=%q epoch=%q batch=%q", meta[MetaStep], meta[MetaEpoch], meta[MetaBatch])
	}
	s.Config = meta[MetaConfig]
	var names []string
	if p := meta[MetaParams]; p != "" {
		names = strings.Split(p, ",")
	}
	if len(ts) != 2*len(names) {
		return bad("%d tensors for %d parameters (want m and v of each)", len(ts), len(names))
	}
	for _, n := range names {
		m, v := Find(ts, "m."+n), Find(ts, "v."+n)
		if m == nil || v == nil || !sameShape(m.Shape, v.Shape) {
			return bad("moments of parameter %s missing or mismatched", n)
		}
		s.M = append(s.M, Tensor{Name: n, Shape: m.Shape, Data: m.Data})
		s.V = append(s.V, Tensor{Name: n, Shape: v.Shape, Data: v.Data})
	}
	s.Extra = map[string]string{}
	for k, v := range meta {
		switch k {
		case MetaFormat, MetaStep, MetaEpoch, MetaBatch, MetaConfig, MetaParams, MetaChecksum:
		default:
			s.Extra[k] = v
		}
	}
	return s, nil
}

func sameShape(a, b []int) bool {
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

// SaveCheckpoint writes the state file (StatePath(path)) and then the model
// file path, each atomically, both recording st.Step; meta goes to the model
// file. A crash between the two leaves a state newer than the model, which
// LoadCheckpoint detects.
func SaveCheckpoint(path string, params []Tensor, meta map[string]string, st State) error {
	if _, clash := meta[MetaStep]; clash {
		return fmt.Errorf("checkpoint: save %s: metadata key %q is reserved", path, MetaStep)
	}
	if err := SaveState(StatePath(path), st); err != nil {
		return err
	}
	m := map[string]string{}
	for k, v := range meta {
		m[k] = v
	}
	m[MetaStep] = strconv.FormatInt(st.Step, 10)
	return Save(path, params, m)
}

// LoadCheckpoint reads a model file and its state file and checks that they
// belong together: same step, and a moment of the same shape for every
// parameter, in the same order. A NaN or infinite value in either file is
// refused naming the file and the tensor (see CheckFinite).
func LoadCheckpoint(path string) ([]Tensor, map[string]string, State, error) {
	params, meta, err := Load(path)
	if err != nil {
		return nil, nil, State{}, err
	}
	if err := CheckFinite(path, params); err != nil {
		return nil, nil, State{}, err
	}
	st, err := LoadState(StatePath(path))
	if err != nil {
		return nil, nil, State{}, err
	}
	if err := errors.Join(checkFinite(StatePath(path), "m.", st.M), checkFinite(StatePath(path), "v.", st.V)); err != nil {
		return nil, nil, State{}, err
	}
	if meta[MetaStep] != strconv.FormatInt(st.Step, 10) {
		return nil, nil, State{}, fmt.Errorf("checkpoint: %s is at step %q but its state file at step %d (interrupted save?); use an earlier checkpoint", path, meta[MetaStep], st.Step)
	}
	trained := params
	if names := meta[MetaNonTrained]; names != "" {
		skip := strings.Split(names, ",")
		trained = nil
		for _, p := range params {
			if !slices.Contains(skip, p.Name) {
				trained = append(trained, p)
			}
		}
	}
	if len(st.M) != len(trained) {
		return nil, nil, State{}, fmt.Errorf("checkpoint: %s holds %d parameters but its state file moments for %d", path, len(trained), len(st.M))
	}
	for i, p := range trained {
		if st.M[i].Name != p.Name || !sameShape(st.M[i].Shape, p.Shape) {
			return nil, nil, State{}, fmt.Errorf("checkpoint: %s: parameter %d is %s %v but the state file has %s %v", path, i, p.Name, p.Shape, st.M[i].Name, st.M[i].Shape)
		}
	}
	return params, meta, st, nil
}

// Name is the file name of the checkpoint at step: ckpt-<step, 9 digits>.safetensors.
func Name(step int64) string { return fmt.Sprintf("ckpt-%09d.safetensors", step) }

// parseName returns the step of a Name, or false.
func parseName(name string) (int64, bool) {
	s, ok := strings.CutPrefix(name, "ckpt-")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, ".safetensors")
	if !ok || strings.Contains(s, ".") {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}

// List returns the model checkpoints in dir (named by Name) that have a
// state file, by increasing step.
func List(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	type item struct {
		step int64
		path string
	}
	var items []item
	for _, e := range ents {
		if step, ok := parseName(e.Name()); ok && e.Type().IsRegular() {
			p := filepath.Join(dir, e.Name())
			if _, err := os.Stat(StatePath(p)); err == nil {
				items = append(items, item{step, p})
			}
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].step < items[j].step })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.path
	}
	return out, nil
}

// Latest returns the checkpoint of dir with the highest step; the error
// wraps fs.ErrNotExist when there is none.
func Latest(dir string) (string, error) {
	l, err := List(dir)
	if err != nil {
		return "", err
	}
	if len(l) == 0 {
		return "", fmt.Errorf("checkpoint: no ckpt-*.safetensors with a state file in %s: %w", dir, fs.ErrNotExist)
	}
	return l[len(l)-1], nil
}
