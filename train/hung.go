package train

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// HungError ends a rank of a distributed run whose context was cancelled
// (SIGTERM from mpirun, which stops every rank when one ends or on Ctrl-C,
// and kills them a second later) while it waited for the other ranks
// longer than Waited: this rank stopped rather than hang or die silently.
// Nothing was saved after Step; the run resumes from Checkpoint.
type HungError struct {
	Step       int           // last step done
	Checkpoint string        // last checkpoint written ("" when none)
	Dir        string        // run folder
	Waited     time.Duration // how long the step in flight was waited for
}

// Error says where the rank stopped, why, and where to resume from.
func (e *HungError) Error() string {
	msg := fmt.Sprintf("train: interrupted after step %d while waiting for the other ranks (no answer within %v of the signal): mpirun stops every rank when one ends (its error, above, says why) or on Ctrl-C",
		e.Step, e.Waited)
	if e.Checkpoint == "" {
		return msg + "; no checkpoint was written, nothing to resume from"
	}
	return fmt.Sprintf("%s; last checkpoint written: %s (resume with: crossgrad train --resume %s)", msg, e.Checkpoint, e.Dir)
}

// progressMark is the loop's position as Run may read it while the loop
// runs: last step done, last checkpoint and the run folder.
type progressMark struct {
	mu sync.Mutex
	markState
}

type markState struct {
	step int
	ckpt string
	dir  string
}

// setDir records the run folder.
func (m *progressMark) setDir(dir string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dir = dir
}

// set records the step done and the last checkpoint.
func (m *progressMark) set(step int, ckpt string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.step, m.ckpt = step, ckpt
}

// get returns the recorded position.
func (m *progressMark) get() markState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.markState
}

// hung is the HungError and Result of a rank given up on after waited.
func (s markState) hung(waited time.Duration) (*Result, error) {
	return &Result{Step: s.step, Checkpoint: s.ckpt, Dir: s.dir},
		&HungError{Step: s.step, Checkpoint: s.ckpt, Dir: s.dir, Waited: waited}
}

// watchRank runs run (a rank of a distributed run) on its own goroutine
// and returns its outcome; once ctx is cancelled (SIGINT, or SIGTERM from
// mpirun) it waits at most stopGrace for it, then returns a *HungError and
// stuck: run is blocked waiting for other ranks, and keeps what it holds.
func watchRank(ctx context.Context, mark *progressMark, run func() (*Result, error)) (res *Result, err error, stuck bool) {
	type outcome struct {
		res *Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := run()
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err, false
	case <-ctx.Done():
	}
	select {
	case o := <-done:
		return o.res, o.err, false
	case <-time.After(stopGrace):
		res, err := mark.get().hung(stopGrace)
		return res, err, true
	}
}
