package train

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"

	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/layers"
	"github.com/crossgrad/crossgrad/model"
)

// TrajectoryKeys are the configuration keys that fix a run's trajectory:
// model shape, optimizer, data (folder, limits and order), dropout masks and
// the epoch count. Resuming takes them, like every key of ResumedKeys, from
// the checkpoint unless set explicitly, and warns when an explicit value
// differs.
var TrajectoryKeys = []string{"model", "input_size", "width", "batch_size", "epochs", "lr", "adam_beta1",
	"adam_beta2", "adam_eps", "dropout", "seed", "data_dir", "train_limit", "test_limit"}

// processKeys describe this process rather than the run (what it prints,
// where it resumes from, the devices it trains on together and whether it
// is a rank of a distributed run): resuming never takes them from the
// checkpoint.
var processKeys = []string{"resume", "log_level", "quiet", "devices", "device_shares", "distributed"}

// folderKeys place the run's files; loadResume sets them with placeRun.
var folderKeys = []string{"checkpoint_dir", "metrics_jsonl", "metrics_csv"}

// ResumedKeys are the keys a resumed run takes from its checkpoint unless
// set explicitly: every key but those of this process (resume, log_level,
// quiet, devices, device_shares, distributed) and of the run folder (checkpoint_dir, metrics_jsonl, metrics_csv:
// placed by the checkpoint's folder and the run's own settings).
func ResumedKeys() []string {
	var out []string
	for _, k := range config.Keys() {
		if !slices.Contains(processKeys, k) && !slices.Contains(folderKeys, k) {
			out = append(out, k)
		}
	}
	return out
}

// ArchitectureKeys are the keys that fix the parameter names and shapes;
// eval and predict take them from a checkpoint unless set explicitly.
var ArchitectureKeys = []string{"model", "input_size", "width"}

// Checkpoint metadata written by the trainer (model file and state Extra).
const (
	metaArch      = "architecture" // the model's registered name: "alexnet", "vgg11"
	metaInputSize = "input_size"
	metaWidth     = "width"
	extraSeconds  = "train_seconds"  // summed step seconds of the run
	extraImages   = "train_images"   // images trained in the run
	extraELoss    = "epoch_loss_sum" // sum of loss*n in the epoch in progress
	extraECorrect = "epoch_correct"
	extraEImages  = "epoch_images"
	extraESeconds = "epoch_seconds"
	extraHistory  = "history" // JSON array of EpochMetrics of the finished epochs
	extraDevice   = "device"
)

// ResolveCheckpoint turns a checkpoint file, or a run folder (its latest
// checkpoint), into a checkpoint file path.
func ResolveCheckpoint(p string) (string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("train: checkpoint %s: %w", p, err)
	}
	if st.IsDir() {
		l, err := checkpoint.Latest(p)
		if err != nil {
			return "", fmt.Errorf("train: %w", err)
		}
		return l, nil
	}
	return p, nil
}

// keyField returns the field of c tagged key.
func keyField(c *config.Config, key string) reflect.Value {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("key") == key {
			return v.Field(i)
		}
	}
	panic("train: no config key " + key) // programmer error: keys are constants above
}

// mergeStored copies keys from stored into cur unless explicit, logging
// every value taken from the checkpoint that differs from cur and every
// explicit value that differs from the checkpoint (a warning for the keys
// of the trajectory).
func mergeStored(cur *config.Config, stored config.Config, keys []string, explicit map[string]bool, log *slog.Logger) {
	for _, k := range keys {
		dst, src := keyField(cur, k), keyField(&stored, k)
		if reflect.DeepEqual(dst.Interface(), src.Interface()) {
			continue
		}
		if explicit[k] {
			msg := fmt.Sprintf("%s = %v set explicitly; the checkpoint was made with %v", k, dst.Interface(), src.Interface())
			if slices.Contains(TrajectoryKeys, k) {
				log.Warn(msg)
			} else {
				log.Info(msg)
			}
			continue
		}
		log.Info(fmt.Sprintf("%s = %v from the checkpoint (configuration says %v)", k, src.Interface(), dst.Interface()))
		dst.Set(src)
	}
}

// ModelDesc describes the model of c for messages: "vgg11 input_size 64,
// width 0.5".
func ModelDesc(c config.Config) string { return model.Describe(c.Model, ModelOptions(c)) }

// checkArch checks that the architecture recorded in a checkpoint's
// metadata (absent in files not written by crossgrad train) is the model
// its stored configuration names.
func checkArch(path string, meta map[string]string, stored config.Config) error {
	if a := meta[metaArch]; a != "" && a != stored.Model {
		return fmt.Errorf("train: checkpoint %s records architecture %q but its stored configuration says model %q; the file was altered or mixed from two runs", path, a, stored.Model)
	}
	return nil
}

// CheckTensors checks that ts holds exactly the tensors of a checkpoint of
// seq, with their shapes: its parameters and its layers' non-trained state
// (see modelTensors). The error names the first offending tensor and both
// shapes. model describes the model (ModelDesc) and path the checkpoint.
func CheckTensors(seq *layers.Sequential, ts []checkpoint.Tensor, model, path string) error {
	byName := map[string]*checkpoint.Tensor{}
	for i := range ts {
		byName[ts[i].Name] = &ts[i]
	}
	for _, w := range stateDictSpecs(seq) {
		t, ok := byName[w.name]
		if !ok {
			return fmt.Errorf("train: checkpoint %s has no tensor %s (%sshape %v in the model: %s); it was made for another architecture%s", path, w.name, w.kind, w.shape, model, w.hint)
		}
		if !reflect.DeepEqual(t.Shape, w.shape) {
			return fmt.Errorf("train: checkpoint %s: tensor %s has shape %v but the model (%s) expects %v; the checkpoint was made for another input size or width (set --input-size/--width as it was trained, or drop them to use the checkpoint's)", path, w.name, t.Shape, model, w.shape)
		}
		delete(byName, w.name)
	}
	for _, t := range ts {
		if _, extra := byName[t.Name]; extra {
			return fmt.Errorf("train: checkpoint %s has tensor %s %v that the model (%s) does not have; it was made for another architecture", path, t.Name, t.Shape, model)
		}
	}
	return nil
}

// tensorSpec is one tensor a checkpoint of a model holds; kind and hint
// word the error when it is missing.
type tensorSpec struct {
	name       string
	shape      []int
	kind, hint string
}

// stateDictSpecs lists the tensors of a checkpoint of seq: the parameters,
// then the non-trained state.
func stateDictSpecs(seq *layers.Sequential) []tensorSpec {
	var out []tensorSpec
	for _, p := range seq.Params() {
		out = append(out, tensorSpec{name: p.Name, shape: p.Shape})
	}
	for _, s := range seq.State() {
		out = append(out, tensorSpec{name: s.Name, shape: s.Shape, kind: "non-trained state, ",
			hint: " or saved without the layer state"})
	}
	return out
}

// loadModelTensors writes a model file's tensors (see modelTensors) into
// p, strictly: every parameter and state tensor once, with its shape.
// train (resume), eval and predict load checkpoints through it.
func loadModelTensors(p *graph.Plan, ts []checkpoint.Tensor) error {
	return p.LoadStateDict(fromCkpt(ts))
}

// placeRun sets the folder keys of a resumed run: checkpoint_dir is the
// folder of the checkpoint (ckptDir) unless set explicitly, and each metric
// path is the run's own unless set explicitly, moved along with the folder
// when it lay in the run's folder.
func placeRun(cur *config.Config, stored config.Config, ckptDir string, explicit map[string]bool, log *slog.Logger) {
	dir := ckptDir
	if explicit["checkpoint_dir"] {
		dir = cur.CheckpointDir
	}
	for _, m := range []struct {
		key    string
		cur    *string
		stored string
	}{{"metrics_jsonl", &cur.MetricsJSONL, stored.MetricsJSONL}, {"metrics_csv", &cur.MetricsCSV, stored.MetricsCSV}} {
		if explicit[m.key] {
			continue
		}
		p := m.stored
		if p != "" && filepath.Dir(p) == filepath.Clean(stored.CheckpointDir) {
			p = filepath.Join(dir, filepath.Base(p))
		} else if p != *m.cur {
			log.Info(fmt.Sprintf("%s = %q from the checkpoint", m.key, p))
		}
		*m.cur = p
	}
	cur.CheckpointDir = dir
}

// resumed is a loaded checkpoint to continue from.
type resumed struct {
	path   string
	params []checkpoint.Tensor
	state  checkpoint.State
}

// loadResume loads the checkpoint named by cfg.Resume and merges its
// configuration into cfg (see Options.Explicit and ResumedKeys). Unless
// checkpoint_dir was given explicitly, the run continues in the
// checkpoint's folder.
func loadResume(cfg *config.Config, explicit map[string]bool, log *slog.Logger) (*resumed, error) {
	path, err := ResolveCheckpoint(cfg.Resume)
	if err != nil {
		return nil, err
	}
	params, meta, st, err := checkpoint.LoadCheckpoint(path)
	if err != nil {
		return nil, fmt.Errorf("train: resume: %w", err)
	}
	if st.Config == "" {
		return nil, fmt.Errorf("train: resume: %s stores no configuration; it was not written by crossgrad train", path)
	}
	stored, err := config.FromJSON(st.Config)
	if err != nil {
		return nil, fmt.Errorf("train: resume: %s: %w", path, err)
	}
	if err := checkArch(path, meta, stored); err != nil {
		return nil, err
	}
	log.Info("resuming", "checkpoint", path, "step", st.Step, "epoch", st.Epoch+1, "batch", st.Batch)
	mergeStored(cfg, stored, ResumedKeys(), explicit, log)
	placeRun(cfg, stored, filepath.Dir(path), explicit, log)
	return &resumed{path: path, params: params, state: st}, nil
}

// extraFloat parses a float of a state's Extra ("" -> 0).
func extraFloat(extra map[string]string, key string) (float64, error) {
	s, ok := extra[key]
	if !ok || s == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("train: checkpoint metadata %s = %q: %w", key, s, err)
	}
	return v, nil
}

// extraFloats parses several Extra floats.
func extraFloats(extra map[string]string, keys ...string) ([]float64, error) {
	out := make([]float64, len(keys))
	var errs []error
	for i, k := range keys {
		v, err := extraFloat(extra, k)
		out[i] = v
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

func formatFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
