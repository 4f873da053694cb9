package train

import (
	"fmt"
	"sync"
	"time"

	"github.com/crossgrad/crossgrad/config"
)

// EstimateThreshold is the remaining run time on a CPU device above which
// the run-time warning is logged.
const EstimateThreshold = 10 * time.Minute

// cpuQuick is the embedded cpu-quick configuration the warning suggests.
var cpuQuick = sync.OnceValues(func() (config.Config, error) { return config.Embedded("cpu-quick") })

// estimate logs, once, how long the rest of the run will take on a CPU
// device, from the step times after the first, when that is over
// EstimateThreshold.
func (r *run) estimate() {
	n := r.opts.EstimateAfter
	if n == 0 {
		n = 4
	}
	if n < 0 || len(r.timed) != n+1 || !IsCPU(r.op.Dev.Info()) {
		return
	}
	var sum float64
	for _, t := range r.timed[1:] {
		sum += t
	}
	nb := r.trainB.NumBatches()
	e := cpuEstimate{
		device:    r.device,
		cfg:       r.cfg,
		stepsLeft: r.cfg.Epochs*nb - (r.epoch*nb + r.batch),
		testLeft:  (r.cfg.Epochs - r.epoch) * r.testB.NumBatches(),
		perStep:   sum / float64(n),
	}
	q, err := cpuQuick()
	if msg := e.message(q, err == nil); msg != "" {
		r.log.Warn(msg)
	}
}

// cpuEstimate is what the CPU run-time warning is made of.
type cpuEstimate struct {
	device    string
	cfg       config.Config // the run's configuration, after resume
	stepsLeft int           // training steps still to run
	testLeft  int           // test batches still to run (one pass per epoch left)
	perStep   float64       // seconds per training step
}

// remaining is the time the steps and test passes left will take; a test
// batch costs about a third of a training step (forward only).
func (e cpuEstimate) remaining() time.Duration {
	steps := float64(e.stepsLeft) + float64(e.testLeft)/3
	return time.Duration(steps * e.perStep * float64(time.Second)).Round(time.Second)
}

// message is the warning, or "" when the rest of the run takes at most
// EstimateThreshold. It suggests quick (cpu-quick; haveQuick false when it
// could not be loaded) only when the run does more work than quick.
func (e cpuEstimate) message(quick config.Config, haveQuick bool) string {
	left := e.remaining()
	if left <= EstimateThreshold {
		return ""
	}
	msg := fmt.Sprintf("%s is a CPU device: the remaining %d steps of this %d-epoch run (input %d, width %g) will take about %s (%.3f s per step of %d images)",
		e.device, e.stepsLeft, e.cfg.Epochs, e.cfg.InputSize, e.cfg.Width, left, e.perStep, e.cfg.BatchSize)
	if haveQuick && work(e.cfg) > work(quick) {
		msg += fmt.Sprintf("; for a quick CPU run use --config cpu-quick (input %d, width %g, %d epochs)", quick.InputSize, quick.Width, quick.Epochs)
	}
	return msg
}

// work is a run's relative amount of computation: a convolution's cost
// grows with the square of the input side and of the width multiplier, and
// with the number of epochs.
func work(c config.Config) float64 {
	s := float64(c.InputSize) * c.Width
	return s * s * float64(c.Epochs)
}
