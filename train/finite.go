package train

import (
	"fmt"
	"strings"

	"github.com/crossgrad/crossgrad/graph"
)

// FiniteCheckSteps is how often, in steps, training counts the NaN and
// infinite values of the parameters and Adam moments on the device; every
// checkpoint is checked as well, before it is written.
const FiniteCheckSteps = 100

// Divergence warning thresholds: a step loss above DivergeFactor times the
// first step's loss of the process (taken as at least 1), or above
// DivergeLoss, is logged once as a warning with its step.
const (
	DivergeFactor = 1e3
	DivergeLoss   = 1e6
)

// finiteState is what the non-finite checks and the divergence warning
// remember over a run.
type finiteState struct {
	checkedAt int     // step of the last check that found the model finite
	firstLoss float64 // loss of the first step of this process
	stepped   bool    // firstLoss is set
	warned    bool    // the divergence warning was logged
}

// NonFiniteParamsError reports parameters or Adam moments holding NaN or
// infinite values although the loss stayed finite. Training stopped before
// writing a checkpoint with them; Run's error adds the last checkpoint
// written (every one was checked finite) and how to resume.
type NonFiniteParamsError struct {
	Step       int                     // steps done when the check ran
	Reason     string                  // "before writing the checkpoint (end of epoch)", "by the check every 100 steps"
	Tensors    []graph.NonFiniteTensor // the tensors holding non-finite values
	Checkpoint string                  // last good checkpoint ("" when none was written)
}

// maxNamed is how many tensors NonFiniteParamsError's message lists.
const maxNamed = 6

// Error names the step and the tensors (the first maxNamed of them).
func (e *NonFiniteParamsError) Error() string {
	var names []string
	for i, t := range e.Tensors {
		if i == maxNamed {
			names = append(names, fmt.Sprintf("and %d more tensors", len(e.Tensors)-maxNamed))
			break
		}
		names = append(names, t.String())
	}
	return fmt.Sprintf("train: step %d: NaN or infinite values in %s, found %s; training stopped and no checkpoint holds them. "+
		"The loss stayed finite: the run diverged (restart it with a lower --lr) or the model was damaged",
		e.Step, strings.Join(names, ", "), e.Reason)
}

// checkFinite checks on the device that every parameter and Adam moment is
// finite before the checkpoint that reason names is written, and returns a
// *NonFiniteParamsError when one is not.
func (r *run) checkFinite(reason string) error {
	return r.checkModel(fmt.Sprintf("before writing the checkpoint (%s)", reason))
}

// checkModel counts on the device the non-finite values of every parameter
// and Adam moment; how says when the check ran, for the error. A step
// already found finite is not checked again.
func (r *run) checkModel(how string) error {
	if r.finite.checkedAt == r.step {
		return nil
	}
	bad, err := r.op.Plan.NonFinite()
	if err != nil {
		return fmt.Errorf("train: step %d: checking the model for NaN (%s): %w", r.step, how, err)
	}
	if len(bad) > 0 {
		return &NonFiniteParamsError{Step: r.step, Reason: how, Tensors: bad, Checkpoint: r.lastCkpt}
	}
	r.finite.checkedAt = r.step
	return nil
}

// afterStep runs after every training step with its loss: the divergence
// warning, and the non-finite check every FiniteCheckSteps steps.
func (r *run) afterStep(loss float32) error {
	r.warnDivergence(float64(loss))
	if r.step%FiniteCheckSteps != 0 {
		return nil
	}
	return r.checkModel(fmt.Sprintf("by the check every %d steps", FiniteCheckSteps))
}

// warnDivergence logs, once per run, a loss far above the first step's.
func (r *run) warnDivergence(loss float64) {
	f := &r.finite
	if !f.stepped {
		f.firstLoss, f.stepped = loss, true
		return
	}
	limit := min(DivergeFactor*max(f.firstLoss, 1), DivergeLoss)
	if f.warned || !(loss > limit) {
		return
	}
	f.warned = true
	r.log.Warn(fmt.Sprintf("training is diverging: the loss is %.4g at step %d (epoch %d) against %.4g at the first step; it may reach NaN or Inf next: stop and restart with a lower --lr (now %g)",
		loss, r.step, r.epoch+1, f.firstLoss, r.cfg.LR), "step", r.step, "loss", loss)
}
