package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/crossgrad/crossgrad/train"
)

// isTerminalFD reports whether the file descriptor is a terminal (tests
// replace it).
var isTerminalFD = term.IsTerminal

// logProgressInterval is how often logProgress writes a line.
const logProgressInterval = 30 * time.Second

// runProgress shows training and evaluation progress.
type runProgress interface {
	train.Progress
	train.EvalProgress
}

// newProgress is the progress display of a command: bar when it is not nil
// (stderr is a terminal), else a line through log every
// logProgressInterval; nil when quiet.
func newProgress(bar *termProgress, log *slog.Logger, quiet bool) runProgress {
	switch {
	case quiet:
		return nil
	case bar != nil:
		return bar
	}
	return newLogProgress(log, logProgressInterval, time.Now)
}

// termProgress is a progress bar on a terminal: per epoch, steps done,
// elapsed time, ETA and the running mean loss; per evaluation, batches
// done and the running accuracy. It implements train.Progress and
// train.EvalProgress.
type termProgress struct {
	w      io.Writer
	bar    *progressbar.ProgressBar
	prefix string
}

// newTermProgress returns a progress bar writing to w, or nil when w is not
// a terminal. Only w counts: with stderr on a terminal the bar shows while
// stdout is piped (train ... | tee log).
func newTermProgress(w io.Writer) *termProgress {
	f, ok := w.(*os.File)
	if !ok || !isTerminalFD(int(f.Fd())) {
		return nil
	}
	return &termProgress{w: w}
}

func (p *termProgress) newBar(max int, desc, unit string) {
	p.bar = progressbar.NewOptions(max,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	)
}

// StartEpoch implements train.Progress.
func (p *termProgress) StartEpoch(epoch, epochs, batches, done int) {
	p.prefix = fmt.Sprintf("epoch %d/%d", epoch, epochs)
	p.newBar(batches, p.prefix+" loss ------", "steps")
	if done > 0 {
		_ = p.bar.Set(done)
	}
}

// Step implements train.Progress.
func (p *termProgress) Step(done int, loss float64) {
	if p.bar == nil {
		return
	}
	p.bar.Describe(fmt.Sprintf("%s loss %.4f", p.prefix, loss))
	_ = p.bar.Set(done)
}

// Clear implements train.Progress.
func (p *termProgress) Clear() {
	if p != nil && p.bar != nil {
		_ = p.bar.Clear()
	}
}

// EndEpoch implements train.Progress.
func (p *termProgress) EndEpoch() {
	if p.bar != nil {
		_ = p.bar.Clear()
		_ = p.bar.Exit()
		p.bar = nil
	}
}

// StartEval implements train.EvalProgress.
func (p *termProgress) StartEval(batches, images int) {
	p.prefix = fmt.Sprintf("test %d images", images)
	p.newBar(batches, p.prefix+" acc -----", "batches")
}

// EvalStep implements train.EvalProgress.
func (p *termProgress) EvalStep(done, n, correct int) {
	if p.bar == nil {
		return
	}
	if n > 0 {
		p.bar.Describe(fmt.Sprintf("%s acc %.3f", p.prefix, float64(correct)/float64(n)))
	}
	_ = p.bar.Set(done)
}

// EndEval implements train.EvalProgress.
func (p *termProgress) EndEval() { p.EndEpoch() }

// StartTune begins a bar over the n targets of a tuning run.
func (p *termProgress) StartTune(n int) {
	p.prefix = "tuning"
	p.newBar(n, p.prefix, "kernels")
}

// TuneStep is tune.Options.Progress: done of total targets tuned, the last
// one described by what.
func (p *termProgress) TuneStep(done, total int, what string) {
	if p.bar == nil {
		return
	}
	p.bar.Describe(fmt.Sprintf("%s %s", p.prefix, what))
	_ = p.bar.Set(done)
}

// logProgress writes progress as log lines, one every interval at most,
// for a stderr that is not a terminal (a log file, nohup, CI): during
// training the epoch, the step, the running mean loss, images/s and the
// epoch's ETA; during an evaluation the batch, images/s and the ETA. It
// implements train.Progress, train.EvalProgress and
// train.BatchSizeProgress.
type logProgress struct {
	log      *slog.Logger
	interval time.Duration
	now      func() time.Time

	batchSize       int    // images per training step
	epoch           string // "2/10"
	total, from     int    // steps (batches) of the pass, done before it started
	images          int    // images of an evaluation
	start, lastLine time.Time
}

// newLogProgress returns a logProgress writing to log every interval,
// reading the time from now.
func newLogProgress(log *slog.Logger, interval time.Duration, now func() time.Time) *logProgress {
	return &logProgress{log: log, interval: interval, now: now}
}

// SetBatchSize implements train.BatchSizeProgress.
func (p *logProgress) SetBatchSize(n int) { p.batchSize = n }

// StartEpoch implements train.Progress.
func (p *logProgress) StartEpoch(epoch, epochs, batches, done int) {
	p.begin(fmt.Sprintf("%d/%d", epoch, epochs), batches, done)
}

func (p *logProgress) begin(epoch string, total, done int) {
	p.epoch, p.total, p.from = epoch, total, done
	p.start = p.now()
	p.lastLine = p.start
}

// due reports whether a line is due now, and the time since the pass
// started.
func (p *logProgress) due() (bool, time.Duration) {
	t := p.now()
	if t.Sub(p.lastLine) < p.interval {
		return false, 0
	}
	p.lastLine = t
	return true, t.Sub(p.start)
}

// Step implements train.Progress.
func (p *logProgress) Step(done int, loss float64) {
	ok, elapsed := p.due()
	if !ok {
		return
	}
	steps := done - p.from
	attrs := []any{"epoch", p.epoch, "step", fmt.Sprintf("%d/%d", done, p.total), "loss", fmt.Sprintf("%.4f", loss)}
	if p.batchSize > 0 {
		attrs = append(attrs, "images/s", rate(steps*p.batchSize, elapsed))
	}
	attrs = append(attrs, "eta", eta(steps, p.total-done, elapsed))
	p.log.Info("training", attrs...)
}

// Clear implements train.Progress (a log line needs no clearing).
func (p *logProgress) Clear() {}

// EndEpoch implements train.Progress.
func (p *logProgress) EndEpoch() {}

// StartEval implements train.EvalProgress.
func (p *logProgress) StartEval(batches, images int) {
	p.begin("", batches, 0)
	p.images = images
}

// EvalStep implements train.EvalProgress.
func (p *logProgress) EvalStep(done, n, correct int) {
	ok, elapsed := p.due()
	if !ok {
		return
	}
	p.log.Info("evaluating", "batch", fmt.Sprintf("%d/%d", done, p.total), "images", fmt.Sprintf("%d/%d", n, p.images),
		"acc", fmt.Sprintf("%.3f", float64(correct)/float64(max(1, n))), "images/s", rate(n, elapsed),
		"eta", eta(n, p.images-n, elapsed))
}

// EndEval implements train.EvalProgress.
func (p *logProgress) EndEval() {}

// rate is n per second over d, one decimal.
func rate(n int, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(n)/d.Seconds())
}

// eta is the time left for left more units at the pace of done units in
// elapsed, rounded to the second.
func eta(done, left int, elapsed time.Duration) string {
	if done <= 0 {
		return "-"
	}
	return (time.Duration(float64(elapsed) * float64(left) / float64(done))).Round(time.Second).String()
}
