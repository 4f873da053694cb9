package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/train"
)

func newEvalCmd() *cobra.Command {
	var ckpt string
	var limit int
	cmd := &cobra.Command{
		Use:   "eval --checkpoint PATH",
		Short: "Evaluate a checkpoint on the test set: accuracy, per-class accuracy and the confusion matrix",
		Long: "eval loads a checkpoint (a file, or a run folder: its latest checkpoint), builds the model with the\n" +
			"input size and width stored in it (or --input-size/--width when given), and evaluates it on the\n" +
			"Fashion-MNIST test set on the configured backend.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ckpt == "" {
				return fmt.Errorf("eval: --checkpoint is required (a checkpoint file or a run folder)")
			}
			cfg, explicit, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("limit") {
				if limit < 0 {
					return fmt.Errorf("eval: --limit %d must be >= 0 (0 = all)", limit)
				}
				cfg.TestLimit = limit
			}
			log := newLogger(cmd.ErrOrStderr(), cfg.LogLevel, cfg.Quiet, nil)
			for _, w := range cfg.Warnings {
				log.Warn(w)
			}
			rep, err := train.EvalCheckpoint(cmd.Context(), train.EvalOptions{Config: cfg, Explicit: explicit, Checkpoint: ckpt, Log: log})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "checkpoint %s (%s) on %s, %.2f s\n", rep.Checkpoint, rep.Model, rep.Device, rep.Seconds)
			return rep.Format(out)
		},
	}
	cmd.Flags().StringVar(&ckpt, "checkpoint", "", "checkpoint file, or a run folder (its latest checkpoint)")
	cmd.Flags().IntVar(&limit, "limit", 0, "evaluate only the first N test images (0 = all; same as --test-limit)")
	config.RegisterFlags(cmd.Flags())
	return cmd
}
