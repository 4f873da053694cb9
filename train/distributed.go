package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/mpi"
	"github.com/crossgrad/crossgrad/parallel"
)

// Comm is the world communicator of a distributed run as Run uses it
// (*mpi.Comm): the Reducer the gradients are summed through, the exchange
// of the ranks' configurations and per-step decisions, and the notice of a
// rank that stops with an error.
type Comm interface {
	parallel.Reducer
	// Allgather returns every rank's b, in rank order, at every rank.
	Allgather(b []byte) ([][]byte, error)
	// Fail tells the other ranks that this rank stops with reason.
	Fail(reason string)
}

// DefaultCollectiveTimeout is Options.CollectiveTimeout when it is 0: a
// rank may take that long (a checkpoint, an evaluation, tuning) before the
// others presume it dead.
const DefaultCollectiveTimeout = 10 * time.Minute

// stopGrace is how long a rank of a distributed run whose context was
// cancelled waits for the step in flight before it gives up on the others
// and returns a *HungError. mpirun sends SIGTERM to every rank when one
// ends (or on Ctrl-C) and SIGKILL one second later (Open MPI's
// odls_base_sigkill_timeout): the error must be out before that. A
// variable for tests.
var stopGrace = 500 * time.Millisecond

// rankKeys may differ between the ranks of a distributed run: each rank's
// devices, what it prints, and the run folder's paths (only rank 0 writes
// the folder; the others take its paths for their messages).
var rankKeys = []string{"backend", "devices", "device_shares", "log_level", "quiet", "checkpoint_dir", "metrics_jsonl", "metrics_csv"}

// extraRanks is the checkpoint state's Extra key of the number of ranks.
const extraRanks = "ranks"

// distributedMode resolves the key distributed: whether this process is one
// rank of an MPI run, and for auto the environment variable that said so.
func distributedMode(c config.Config) (bool, string) {
	switch c.Distributed {
	case "mpi":
		return true, ""
	case "auto":
		return mpi.Launched()
	}
	return false, ""
}

// startDistributed returns o.Comm, or starts MPI when distributed resolves
// to mpi (logging why for auto), or returns nil for a run of this process
// alone. finalize ends MPI when Run started it.
func startDistributed(c config.Config, o Options, log *slog.Logger) (Comm, func(), error) {
	if o.Comm != nil {
		return o.Comm, func() {}, nil
	}
	on, why := distributedMode(c)
	if !on {
		return nil, nil, nil
	}
	timeout := o.CollectiveTimeout
	if timeout <= 0 {
		timeout = DefaultCollectiveTimeout
	}
	comm, err := mpi.Init(timeout)
	if err != nil {
		if why != "" {
			return nil, nil, fmt.Errorf("train: distributed = auto: %s says an MPI launcher started this process, but MPI cannot run: %w; or set --distributed off to train in each process alone", why, err)
		}
		return nil, nil, fmt.Errorf("train: distributed = mpi: %w; or set --distributed off to train in this process alone", err)
	}
	if why != "" && comm.Rank() == 0 {
		log.Info(fmt.Sprintf("distributed: auto: an MPI launcher started this process; training as rank 0 of %d", comm.Size()), "detected", why)
	}
	return comm, func() { _ = comm.Finalize() }, nil
}

// failReason is what a failing rank tells the others: its error without
// the resume hint, which their own errors add.
func failReason(err error) string {
	var se *stopError
	if errors.As(err, &se) {
		return se.err.Error()
	}
	return err.Error()
}

// isRankError reports whether err says that another rank failed.
func isRankError(err error) bool {
	var re *mpi.RankError
	return errors.As(err, &re)
}

// agreeConfig exchanges the effective configurations of every rank and
// refuses, on every rank, configurations that differ in any key but
// rankKeys, naming the keys and values. The ranks other than 0 then take
// rank 0's run folder paths, for their messages.
func agreeConfig(comm Comm, cfg *config.Config) error {
	all, err := comm.Allgather([]byte(cfg.JSON()))
	if err != nil {
		return fmt.Errorf("train: comparing the configurations of the ranks: %w", err)
	}
	vals := make([]map[string]json.RawMessage, len(all))
	for i, b := range all {
		if err := json.Unmarshal(b, &vals[i]); err != nil {
			return fmt.Errorf("train: the configuration of rank %d does not parse (%v): every rank must run the same crossgrad", i, err)
		}
	}
	var diffs []string
	for _, k := range config.Keys() {
		if slices.Contains(rankKeys, k) {
			continue
		}
		var by []string
		for i := range vals {
			if !bytes.Equal(vals[i][k], vals[0][k]) {
				by = append(by, fmt.Sprintf("rank %d: %s", i, vals[i][k]))
			}
		}
		if by != nil {
			diffs = append(diffs, fmt.Sprintf("%s (rank 0: %s, %s)", k, vals[0][k], strings.Join(by, ", ")))
		}
	}
	if diffs != nil {
		return fmt.Errorf("train: the ranks of this distributed run have different configurations: %s; give every rank the same settings (only %s may differ)",
			strings.Join(diffs, "; "), strings.Join(rankKeys, ", "))
	}
	if comm.Rank() != 0 {
		var first config.Config
		if err := json.Unmarshal(all[0], &first); err == nil {
			cfg.CheckpointDir, cfg.MetricsJSONL, cfg.MetricsCSV = first.CheckpointDir, first.MetricsJSONL, first.MetricsCSV
		}
	}
	return nil
}

// checkRanks refuses to resume a checkpoint trained by another number of
// ranks.
func checkRanks(rs *resumed, ranks int) error {
	was := 1
	if s := rs.state.Extra[extraRanks]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return fmt.Errorf("train: resume: %s: checkpoint metadata %s = %q is not a number of ranks", rs.path, extraRanks, s)
		}
		was = n
	}
	if was == ranks {
		return nil
	}
	return fmt.Errorf("train: resume: %s was trained by %d ranks but this run has %d; resume it with the same number of ranks (mpirun -np %d crossgrad train --resume ...)",
		rs.path, was, ranks, was)
}

// Step decisions a distributed run agrees on before every step.
const (
	agreeInterrupted byte = 1 << iota // this rank's context was cancelled
	agreeSaveMinutes                  // rank 0's minute cadence wants a checkpoint
)

// agreeStep exchanges before a step of a distributed run whether any rank
// was interrupted (then every rank stops: the cause) and whether rank 0's
// minute cadence is due (save), so that every rank stops and saves at the
// same step.
func (r *run) agreeStep(ctxErr error) (cause error, save bool, err error) {
	var flags byte
	if ctxErr != nil {
		flags |= agreeInterrupted
	}
	if r.rank == 0 && r.minutesDue() {
		flags |= agreeSaveMinutes
	}
	all, err := r.comm.Allgather([]byte{flags})
	if err != nil {
		return nil, false, fmt.Errorf("train: before step %d: %w", r.step+1, err)
	}
	for i, b := range all {
		if len(b) == 1 && b[0]&agreeInterrupted != 0 && cause == nil {
			cause = ctxErr
			if cause == nil {
				cause = fmt.Errorf("rank %d was interrupted", i)
			}
		}
	}
	save = len(all[0]) == 1 && all[0][0]&agreeSaveMinutes != 0
	return cause, save, nil
}

// rankSuffix is " (rank R of N)" in a distributed run, else "".
func (r *run) rankSuffix() string {
	if r.comm == nil {
		return ""
	}
	return fmt.Sprintf(" (rank %d of %d)", r.rank, r.ranks)
}
