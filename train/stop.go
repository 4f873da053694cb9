package train

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/crossgrad/crossgrad/checkpoint"
)

// removeStaleTemps deletes the temporary files that a process killed while
// writing left in dir.
func removeStaleTemps(dir string, log *slog.Logger) {
	removed, err := checkpoint.RemoveStaleTemps(dir)
	for _, p := range removed {
		log.Info("removed a temporary file left by an interrupted write", "path", p)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		log.Warn("cleaning the run folder failed", "err", err)
	}
}

// stopped adds to an error that ended training the last checkpoint written
// and the command that resumes from it, unless err names them already.
func (r *run) stopped(err error) error {
	var ie *InterruptedError
	var de *DeviceError
	var he *HungError
	if err == nil || errors.As(err, &ie) || errors.As(err, &de) || errors.As(err, &he) {
		return err
	}
	hint := "no checkpoint was written, nothing to resume from"
	if r.lastCkpt != "" {
		hint = fmt.Sprintf("last checkpoint written: %s (resume with: crossgrad train --resume %s)", r.lastCkpt, r.cfg.CheckpointDir)
	}
	return &stopError{err: err, hint: hint}
}

// stopError is an error that ended training, with where to resume from.
type stopError struct {
	err  error
	hint string
}

// Error is the error and the hint, on a line of its own after a multi-line
// error.
func (e *stopError) Error() string {
	msg := e.err.Error()
	if strings.Contains(msg, "\n") {
		return msg + "\n" + e.hint
	}
	return msg + "; " + e.hint
}

// Unwrap returns the error.
func (e *stopError) Unwrap() error { return e.err }

// metricsFailed reports a metrics file that could not be written: logged
// as an error (once per distinct failure) while training and checkpoints go
// on; Run returns the first failure at the end.
func (r *run) metricsFailed(err error) {
	if r.metricsErr == nil {
		r.metricsErr = err
	}
	if msg := err.Error(); msg != r.metricsMsg {
		r.metricsMsg = msg
		r.log.Error("writing metrics failed; training goes on and checkpoints are still saved", "err", err)
	}
}
