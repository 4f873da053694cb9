package train

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/crossgrad/crossgrad/alexnet"
	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/config"
)

// loadModel loads the checkpoint p (a file, or a run folder: its latest)
// for the command what ("eval", "predict"): it refuses tensors holding NaN
// or Inf, takes the architecture keys stored in the checkpoint into cfg
// unless explicit, builds the model and checks the tensors' names and
// shapes against it. It returns the checkpoint file, the model and the
// tensors (owned by the caller).
func loadModel(cfg *config.Config, p string, explicit map[string]bool, log *slog.Logger, what string) (string, *alexnet.Model, []checkpoint.Tensor, error) {
	if p == "" {
		return "", nil, nil, fmt.Errorf("train: %s: no checkpoint given; pass --checkpoint with a checkpoint file or a run folder of crossgrad train", what)
	}
	path, err := ResolveCheckpoint(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w (give --checkpoint a ckpt-*.safetensors file or a run folder written by crossgrad train)", err)
		}
		return "", nil, nil, err
	}
	ts, meta, err := checkpoint.Load(path)
	if err != nil {
		return "", nil, nil, fmt.Errorf("train: %s: %w", what, err)
	}
	if err := checkpoint.CheckFinite(path, ts); err != nil {
		return "", nil, nil, fmt.Errorf("train: %s: %w", what, err)
	}
	if s := meta[checkpoint.MetaConfig]; s != "" {
		stored, err := config.FromJSON(s)
		if err != nil {
			return "", nil, nil, fmt.Errorf("train: %s: %s: %w", what, path, err)
		}
		mergeStored(cfg, stored, ArchitectureKeys, explicit, log)
	}
	model, err := NewModel(*cfg)
	if err != nil {
		return "", nil, nil, err
	}
	if err := CheckTensors(model.Params(), ts, ModelDesc(*cfg), path); err != nil {
		return "", nil, nil, err
	}
	return path, model, ts, nil
}
