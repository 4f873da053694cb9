package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/train"
)

// summaryKeys are the configuration keys summary reads: the model shape and
// the batch of --memory's plan.
var summaryKeys = []string{"model", "input_size", "width", "batch_size"}

func newSummaryCmd() *cobra.Command {
	var memory bool
	cmd := &cobra.Command{
		Use:   "summary",
		Short: "Print each layer's output shape and parameter count (torchsummary style)",
		Long: "summary prints the model of the configuration (model, input_size, width) layer by layer as\n" +
			"torchsummary does; at the default setting (alexnet) the total is 46,764,746 parameters, with --model\n" +
			"vgg11 43,093,322. --memory adds the device memory plan of a training step at batch_size.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			m, err := train.NewModel(cfg)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if err := m.Summary(out); err != nil {
				return err
			}
			if !memory {
				return nil
			}
			lo, err := graph.NewLayout(m.Sequential, m.InputShape(cfg.BatchSize), train.GraphConfig(cfg))
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "\nTraining plan at batch %d:\n", cfg.BatchSize)
			return lo.Report(out)
		},
	}
	cmd.Flags().BoolVar(&memory, "memory", false, "also print the device memory of a training step at batch_size")
	addConfigFlags(cmd, summaryKeys...)
	return cmd
}
