package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossgrad/crossgrad/bench"
	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/mpi"
	"github.com/crossgrad/crossgrad/parallel"
)

// parallelBench reports whether cfg asks for the data-parallel benchmark:
// devices (--devices), or distributed mpi (auto: when an MPI launcher
// started this process).
func parallelBench(cfg config.Config) bool {
	switch cfg.Distributed {
	case "mpi":
		return true
	case "auto":
		if ok, _ := mpi.Launched(); ok {
			return true
		}
	}
	return len(cfg.Devices) > 0
}

// runParallelBench runs bench.RunParallel on --devices (or, under MPI
// without --devices, the first device --device selects) and, on rank 0,
// writes the report.
func runParallelBench(cmd *cobra.Command, f benchFlags, cfg config.Config) error {
	if err := checkParallelFlags(cmd, f); err != nil {
		return err
	}
	specs := cfg.Devices
	if len(specs) == 0 {
		specs = f.devices[:1]
	}
	targets, err := bench.ReplicaTargets(specs)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	comm, err := benchComm(cfg.Distributed, f.mpiTimeout, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	opts := bench.ParallelOptions{Targets: targets, Config: cfg, Shares: cfg.DeviceShares, Runs: f.runs, Warmup: f.warmup, NoAlone: f.noAlone,
		Log: cmd.ErrOrStderr(), Logger: slog.Default(), Version: versionString(), Command: "crossgrad " + strings.Join(os.Args[1:], " ")}
	if f.warmup == 0 {
		opts.Warmup = -1
	}
	rank := 0
	if comm != nil {
		defer comm.Finalize()
		opts.Reducer, rank = comm, comm.Rank()
		if rank != 0 {
			opts.Log, opts.Logger = io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil))
		}
	}
	rep, err := bench.RunParallel(cmd.Context(), opts)
	if err != nil {
		if comm != nil {
			comm.Fail(err.Error())
			return fmt.Errorf("rank %d: %w", rank, err)
		}
		return err
	}
	if rank != 0 {
		return nil
	}
	switch {
	case f.asJSON:
		return rep.WriteJSON(cmd.OutOrStdout())
	case f.asMD:
		return rep.WriteMarkdown(cmd.OutOrStdout())
	}
	return rep.WriteText(cmd.OutOrStdout())
}

// checkParallelFlags refuses the flags of the per-device benchmark that
// mean nothing in the data-parallel one.
func checkParallelFlags(cmd *cobra.Command, f benchFlags) error {
	if len(f.replicas) > 0 && cmd.Flags().Changed(config.DeviceFlag) {
		return errors.New("bench: --device (devices benchmarked one by one) and --devices (one model trained on several together) exclude each other; give one")
	}
	for _, name := range []string{"cpu-batch", "compare", "skip"} {
		if cmd.Flags().Changed(name) {
			return fmt.Errorf("bench: --%s does not apply to the data-parallel benchmark (--devices, --distributed); drop it (the global batch is --batch)", name)
		}
	}
	return nil
}

// benchComm starts MPI for distributed mpi, or auto under an MPI
// launcher, with collectives bounded by timeout; nil for a run in this
// process only.
func benchComm(distributed string, timeout time.Duration, log io.Writer) (*mpi.Comm, error) {
	switch distributed {
	case "off":
		return nil, nil
	case "auto":
		ok, env := mpi.Launched()
		if !ok {
			return nil, nil
		}
		fmt.Fprintf(log, "bench: an MPI launcher started this process (%s): distributed mpi\n", env)
	case "mpi":
	default:
		return nil, fmt.Errorf("bench: --distributed %q: give mpi, auto or off", distributed)
	}
	comm, err := mpi.Init(timeout)
	if errors.Is(err, mpi.ErrUnavailable) {
		return nil, fmt.Errorf("bench: --distributed mpi: %w; start that binary under mpirun -np N, or give --distributed off", err)
	}
	if err != nil {
		return nil, fmt.Errorf("bench: --distributed mpi: %w", err)
	}
	return comm, nil
}

// The MPI communicator is the data-parallel group's Reducer.
var _ parallel.Reducer = (*mpi.Comm)(nil)
