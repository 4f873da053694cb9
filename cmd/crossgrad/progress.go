package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// termProgress is a per-epoch progress bar on a terminal: steps done,
// elapsed time, ETA and the running mean loss. It implements
// train.Progress.
type termProgress struct {
	w       io.Writer
	bar     *progressbar.ProgressBar
	prefix  string
	lastSet time.Time
}

// newTermProgress returns a progress bar writing to w, or nil when either
// stdout or stderr is not a terminal (then training prints only lines).
func newTermProgress(w io.Writer) *termProgress {
	if !isTerminal(os.Stdout) || !isTerminal(os.Stderr) || w != io.Writer(os.Stderr) {
		return nil
	}
	return &termProgress{w: w}
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// StartEpoch implements train.Progress.
func (p *termProgress) StartEpoch(epoch, epochs, batches, done int) {
	p.prefix = fmt.Sprintf("epoch %d/%d", epoch, epochs)
	p.bar = progressbar.NewOptions(batches,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(p.prefix+" loss ------"),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("steps"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	)
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
