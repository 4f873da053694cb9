package train

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/graph"
)

// InterruptedError is returned by Run when its context was cancelled
// (SIGINT, SIGTERM): the step in flight was finished and a checkpoint saved.
type InterruptedError struct {
	Step, Epoch, Batch int    // last step done; epoch (1-based) and next batch (0-based) in progress
	Checkpoint         string // checkpoint written ("" when saving failed)
	Dir                string // run folder
	Cause              error  // the context's error
}

// Error says where the run stopped, the checkpoint and the command that
// resumes it.
func (e *InterruptedError) Error() string {
	return fmt.Sprintf("interrupted after step %d (epoch %d, batch %d); checkpoint saved as %s; resume with: crossgrad train --resume %s",
		e.Step, e.Epoch, e.Batch, e.Checkpoint, e.Dir)
}

// Unwrap returns the context's error.
func (e *InterruptedError) Unwrap() error { return e.Cause }

// position is where a run stands: step done, epoch in progress (0-based)
// and next batch of it.
type position struct{ step, epoch, batch int }

// save writes a checkpoint of the model, Adam state, position and running
// figures into the run folder, atomically; reason is logged. Saving twice
// at the same position writes once.
func (r *run) save(reason string) error {
	if err := r.checkFinite(reason); err != nil {
		return err
	}
	pos := position{r.step, r.epoch, r.batch}
	if r.saved == pos {
		return nil
	}
	path := filepath.Join(r.cfg.CheckpointDir, checkpoint.Name(int64(r.step)))
	if r.rank != 0 {
		// Rank 0 writes this checkpoint; the others name it in errors.
		r.saved, r.savedAt, r.lastCkpt = pos, time.Now(), path
		r.mark.set(r.step, path)
		return nil
	}
	// The step records first: a checkpoint never covers steps whose
	// records could be lost (a later crash replays them from the checkpoint).
	// A metrics failure is reported but does not cost the checkpoint.
	if err := r.mw.sync(); err != nil {
		r.metricsFailed(err)
	}
	start := time.Now()
	phase := r.phase
	r.phase = "checkpoint"
	p := r.op.Plan
	adam, err := p.ReadAdam()
	if err != nil {
		return &saveError{path, err}
	}
	hist, err := json.Marshal(r.history)
	if err != nil {
		return &saveError{path, err}
	}
	st := checkpoint.State{
		Step: int64(r.step), Epoch: r.epoch, Batch: r.batch, Config: r.cfg.JSON(),
		M: toCkpt(adam.M), V: toCkpt(adam.V),
		Extra: map[string]string{
			extraSeconds:  formatFloat(r.totalSeconds),
			extraImages:   strconv.FormatInt(r.totalImages, 10),
			extraELoss:    formatFloat(r.ep.lossSum),
			extraECorrect: strconv.FormatInt(r.ep.correct, 10),
			extraEImages:  strconv.FormatInt(r.ep.images, 10),
			extraESeconds: formatFloat(r.ep.seconds),
			extraHistory:  string(hist),
			extraDevice:   r.device,
			extraRanks:    strconv.Itoa(r.ranks),
		},
	}
	meta := map[string]string{
		checkpoint.MetaConfig: r.cfg.JSON(),
		metaArch:              r.cfg.Model,
		metaInputSize:         strconv.Itoa(r.cfg.InputSize),
		metaWidth:             formatFloat(r.cfg.Width),
	}
	params, err := modelTensors(p, meta)
	if err != nil {
		return &saveError{path, err}
	}
	if err := os.MkdirAll(r.cfg.CheckpointDir, 0o755); err != nil {
		return &saveError{path, err}
	}
	if err := checkpoint.SaveCheckpoint(path, params, meta, st); err != nil {
		return &saveError{path, err}
	}
	r.saved, r.savedAt, r.lastCkpt, r.phase = pos, time.Now(), path, phase
	r.mark.set(r.step, path)
	r.log.Info("checkpoint saved", "reason", reason, "path", path, "step", r.step, "seconds", fmt.Sprintf("%.2f", time.Since(start).Seconds()))
	removed, err := checkpoint.Prune(r.cfg.CheckpointDir, r.cfg.KeepCheckpoints, path)
	for _, p := range removed {
		r.log.Debug("old checkpoint deleted", "path", p, "keep_checkpoints", r.cfg.KeepCheckpoints)
	}
	if err != nil {
		r.log.Warn("deleting old checkpoints failed", "err", err)
	}
	return nil
}

// modelTensors reads the tensors of a model file from p: the parameters and
// the layers' non-trained state, under their state_dict names; it lists the
// state tensors (which have no Adam moments) in meta.
func modelTensors(p *graph.Plan, meta map[string]string) ([]checkpoint.Tensor, error) {
	ts, err := p.ReadStateDict()
	if err != nil {
		return nil, err
	}
	if st := p.State(); len(st) > 0 {
		names := make([]string, len(st))
		for i, t := range st {
			names[i] = t.Name
		}
		meta[checkpoint.MetaNonTrained] = strings.Join(names, ",")
	}
	return toCkpt(ts), nil
}

// saveError is a checkpoint that could not be saved: its path and the
// cause, under one prefix.
type saveError struct {
	path string
	err  error
}

// Error names the checkpoint and the cause.
func (e *saveError) Error() string {
	return fmt.Sprintf("train: saving checkpoint %s failed: %s", e.path, strings.TrimPrefix(e.err.Error(), "checkpoint: "))
}

// Unwrap returns the cause.
func (e *saveError) Unwrap() error { return e.err }

// restore sets the run's position and figures from a resumed checkpoint.
func (r *run) restore(rs *resumed) error {
	st := rs.state
	r.step, r.epoch, r.batch = int(st.Step), st.Epoch, st.Batch
	fs, err := extraFloats(st.Extra, extraSeconds, extraImages, extraELoss, extraECorrect, extraEImages, extraESeconds)
	if err != nil {
		return err
	}
	r.totalSeconds, r.totalImages = fs[0], int64(fs[1])
	r.ep = accum{lossSum: fs[2], correct: int64(fs[3]), images: int64(fs[4]), seconds: fs[5]}
	if h := st.Extra[extraHistory]; h != "" {
		if err := json.Unmarshal([]byte(h), &r.history); err != nil {
			return fmt.Errorf("train: checkpoint %s: history metadata: %w", rs.path, err)
		}
	}
	if len(r.history) > r.epoch {
		r.history = r.history[:r.epoch]
	}
	r.saved, r.savedAt, r.lastCkpt = position{r.step, r.epoch, r.batch}, time.Now(), rs.path
	r.mark.set(r.step, rs.path)
	return nil
}
