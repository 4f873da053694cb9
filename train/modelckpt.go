package train

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/model"
)

// loadModel loads the checkpoint p (a file, or a run folder: its latest)
// for the command what ("eval", "predict"): it refuses tensors holding NaN
// or Inf, takes the architecture keys stored in the checkpoint into cfg
// unless explicit (the model named in the checkpoint's metadata when it
// stores no configuration), builds the model and checks the tensors' names
// and shapes against it. It returns the checkpoint file, the model and the
// tensors (owned by the caller).
func loadModel(cfg *config.Config, p string, explicit map[string]bool, log *slog.Logger, what string) (string, *model.Model, []checkpoint.Tensor, error) {
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
		if err := checkArch(path, meta, stored); err != nil {
			return "", nil, nil, err
		}
		mergeStored(cfg, stored, ArchitectureKeys, explicit, log)
	} else if a := meta[metaArch]; a != "" && a != cfg.Model && !explicit["model"] {
		log.Info(fmt.Sprintf("model = %s from the checkpoint (configuration says %s)", a, cfg.Model))
		cfg.Model = a
	}
	m, err := NewModel(*cfg)
	if err != nil {
		return "", nil, nil, fmt.Errorf("train: %s: checkpoint %s: %w", what, path, err)
	}
	if err := CheckTensors(m.Sequential, ts, ModelDesc(*cfg), path); err != nil {
		return "", nil, nil, err
	}
	return path, m, ts, nil
}
