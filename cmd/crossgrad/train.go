package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/train"
)

func newTrainCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train AlexNet on Fashion-MNIST (the seed tutorial's run by default)",
		Long: "train runs the seed tutorial's training (presets/default.yaml: input 224, batch 128, 10 epochs,\n" +
			"Adam lr 1e-3, dropout 0.5) on the best device found, or the configuration given with --config\n" +
			"(a YAML file, or the embedded default, cpu-quick or vgg11-cpu-quick). --model vgg11 trains d2l.ai's VGG-11\n" +
			"instead of the seed's AlexNet. Every key can be overridden by a\n" +
			"CROSSGRAD_<KEY> variable or a --<key> flag. backend may list several entries: the first that\n" +
			"opens and fits the model is used. Checkpoints (model and Adam state) go to checkpoint_dir every\n" +
			"epoch and on the configured step/minute cadence (keep_checkpoints: every epoch end is kept, plus the\n" +
			"newest mid-epoch ones); the folder also gets config.yaml, the run's effective configuration.\n" +
			"One process owns a run folder: another train on it is refused, and so is a folder that holds a\n" +
			"finished run unless --force. --resume PATH (a checkpoint or a run folder) continues a run exactly,\n" +
			"with every setting of the run unless given explicitly. Ctrl-C finishes the step in flight, saves a\n" +
			"checkpoint and says how to resume.\n\n" +
			"--devices opencl:0,vulkan:0 trains one replica of the model per device, the batch split across them\n" +
			"in proportion to their measured speed (or --device-shares), the gradients summed on the host.\n" +
			"Under mpirun (a binary built with make build-mpi; --distributed auto detects the launcher) every\n" +
			"process is one rank: the gradients are summed with MPI_Allreduce, rank 0 alone prints and writes the\n" +
			"run folder, and a rank that fails stops the others with an error naming it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, explicit, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			bar := newTermProgress(cmd.ErrOrStderr())
			if cfg.Quiet {
				bar = nil
			}
			log := newLogger(cmd.ErrOrStderr(), cfg.LogLevel, cfg.Quiet, bar)
			for _, w := range cfg.Warnings {
				log.Warn(w)
			}
			log.Debug("configuration", "source", cfg.Source, "values", cfg.JSON())
			ctx, stop := interruptContext(cmd.Context(), func(sig os.Signal) {
				log.Warn(fmt.Sprintf("%v: finishing the step in flight and saving a checkpoint (send it again to abort at once)", sig))
			})
			defer stop()
			force, err := cmd.Flags().GetBool(forceFlag)
			if err != nil {
				return err
			}
			o := train.Options{Config: cfg, Explicit: explicit, Out: cmd.OutOrStdout(), Log: log, Force: force}
			if o.BeforeStep, err = injectedFault(os.Environ()); err != nil {
				return err
			}
			o.Progress = newProgress(bar, log, cfg.Quiet)
			res, err := train.Run(ctx, o)
			if err != nil {
				return err
			}
			if res.Checkpoint != "" && res.Rank == 0 {
				log.Info("run finished", "checkpoints", res.Dir, "metrics", metricsSummary(res.Config))
			}
			return nil
		},
	}
	config.RegisterFlags(cmd.Flags())
	cmd.Flags().Bool(forceFlag, false, "take a checkpoint folder that holds another run, deleting that run's checkpoints, metrics and config.yaml (listed in the log)")
	return cmd
}

// forceFlag lets train overwrite a folder holding another run.
const forceFlag = "force"

// metricsSummary names the metric files of c.
func metricsSummary(c config.Config) string {
	f := train.MetricsPaths(c.MetricsJSONL, c.MetricsCSV)
	s := ""
	for _, p := range []string{f.CSV, f.JSON, f.PNG, f.JSONL} {
		if p != "" {
			if s != "" {
				s += ", "
			}
			s += p
		}
	}
	if s == "" {
		return "off"
	}
	return s
}

// interruptContext returns a context cancelled by the first SIGINT or
// SIGTERM (onSignal is told which); after that the signals get their default
// behaviour back, so a second one ends the process at once.
func interruptContext(parent context.Context, onSignal func(os.Signal)) (context.Context, func()) {
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			signal.Stop(ch)
			onSignal(sig)
			cancel()
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel()
	}
}
