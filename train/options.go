// Package train is crossgrad's training loop, independent of the command
// line: it opens the first device of a backend fallback list, plans the
// AlexNet of the configuration on it, trains epoch by epoch on Fashion-MNIST
// printing the seed tutorial's lines, evaluates on the test set, writes
// per-step and per-epoch metrics (JSON lines, CSV, JSON, PNG plot),
// checkpoints model and Adam state on a step/minute/epoch cadence, resumes a
// run exactly where it stopped (same data order, dropout step counter and
// Adam state), stops on a NaN or Inf loss with per-layer statistics, on
// cancellation finishes the step in flight and saves a checkpoint, and on a
// device failure or hang stops with an error naming the device, the kernel
// and the last checkpoint.
package train

import (
	"io"
	"log/slog"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/data"
	"github.com/crossgrad/crossgrad/graph"
)

// Progress shows the progress of one epoch (a terminal progress bar). All
// calls come from the goroutine running the loop.
type Progress interface {
	// StartEpoch begins epoch (1-based) of epochs, which has batches steps
	// of which done are already finished (a resumed run).
	StartEpoch(epoch, epochs, batches, done int)
	// Step reports done finished steps of the epoch and the mean loss so far.
	Step(done int, loss float64)
	// Clear removes the bar from the terminal so that a line can be printed;
	// the next Step redraws it.
	Clear()
	// EndEpoch removes the bar for good.
	EndEpoch()
}

// Options configure Run. Config is required; everything else is optional.
type Options struct {
	// Config is the run's configuration (config.Load's result).
	Config config.Config
	// Explicit names the keys the user set explicitly (by flag or
	// environment). When resuming, those keys win over the values stored in
	// the checkpoint; every other key of the run (ResumedKeys, and the run
	// folder's) is taken from the checkpoint.
	Explicit map[string]bool
	// TrainSet and TestSet replace loading Config.DataDir (tests pass
	// synthetic sets). Both or neither.
	TrainSet, TestSet *data.Set
	// Out receives the seed's lines: "training on ...", one line per epoch
	// and the final "total training time ..." line. nil discards them.
	Out io.Writer
	// Log receives information and warnings (device fallback, resume,
	// checkpoints, the CPU run-time estimate). nil discards them.
	Log *slog.Logger
	// Progress shows per-epoch progress; nil shows none.
	Progress Progress
	// Force lets a new run take a checkpoint folder (or metric files) that
	// hold another run: its files are deleted, and listed in the log, just
	// before training starts. Without it such a folder is refused.
	Force bool
	// EstimateAfter is the number of steps timed before printing the run
	// time estimate on CPU devices (default 4; the first step, which
	// compiles kernels, is not counted). Negative disables it.
	EstimateAfter int
	// BeforeStep, when set, runs before every training step with the step
	// number (1-based, global) and the plan; an error stops training. Tests
	// use it to inject faults and to interrupt at a given step.
	BeforeStep func(step int, p *graph.Plan) error
	// WrapDevice, when set, wraps every device opened before the model is
	// planned on it; an error counts as the device failing to open. Tests
	// use it to inject driver faults.
	WrapDevice func(backend.Device) (backend.Device, error)
	// StallTimeout bounds a single device call (dispatch, read, write,
	// sync): one that runs longer ends the run with a *DeviceError wrapping
	// ErrStalled. 0 means DefaultStallTimeout, raised to 20 times the
	// longest call seen so far (slow CPU devices); negative disables the
	// watchdog.
	StallTimeout time.Duration
	// Comm, when set, makes the run one rank of a distributed run over it
	// whatever the key distributed says (tests pass an in-process one);
	// nil starts MPI (mpi.Init) when distributed resolves to mpi.
	Comm Comm
	// CollectiveTimeout bounds every collective of a distributed run started
	// by Run: a rank that does not answer within it is presumed dead. 0
	// means DefaultCollectiveTimeout.
	CollectiveTimeout time.Duration
}

// EpochMetrics are one epoch's figures, as written to the CSV and JSON files
// and printed in the seed's epoch line.
type EpochMetrics struct {
	Epoch        int     `json:"epoch"`          // 1-based
	Step         int     `json:"step"`           // global step at the end of the epoch
	Loss         float64 `json:"loss"`           // mean training loss, weighted by batch size
	TrainAcc     float64 `json:"train_acc"`      // correct / images over the epoch
	TestLoss     float64 `json:"test_loss"`      // mean cross-entropy over the (limited) test set
	TestAcc      float64 `json:"test_acc"`       // accuracy over the (limited) test set
	Seconds      float64 `json:"seconds"`        // summed step times of the epoch
	ImagesPerSec float64 `json:"images_per_sec"` // epoch images / Seconds
}

// Result summarises a finished (or interrupted) run.
type Result struct {
	// Device is the device used, "name (backend:index)", or the devices
	// joined by " + " when several trained at once.
	Device string
	// Rank is this process's rank in a distributed run (0 otherwise): only
	// rank 0 writes the run folder.
	Rank int
	// Epochs holds the metrics of every completed epoch of the run,
	// including those done before a resume.
	Epochs []EpochMetrics
	// Step is the last completed optimizer step.
	Step int
	// TrainSeconds and Images are the summed step times and the images
	// trained over the whole run (including before a resume).
	TrainSeconds float64
	Images       int64
	// Checkpoint is the last checkpoint written ("" when none).
	Checkpoint string
	// Dir is the checkpoint folder of the run.
	Dir string
	// Config is the configuration the run used (after merging a resumed
	// checkpoint's values).
	Config config.Config
}

// ImagesPerSec is Images / TrainSeconds (0 when no time was measured).
func (r *Result) ImagesPerSec() float64 {
	if r.TrainSeconds <= 0 {
		return 0
	}
	return float64(r.Images) / r.TrainSeconds
}
