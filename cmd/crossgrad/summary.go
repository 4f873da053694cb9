package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/train"
)

// summaryKeys are the configuration keys summary reads: the model shape, and
// the batch, convolution algorithm and fusion of --memory's plan.
var summaryKeys = []string{"model", "input_size", "width", "batch_size", "conv_algo", "fuse"}

func newSummaryCmd() *cobra.Command {
	var memory bool
	cmd := &cobra.Command{
		Use:   "summary",
		Short: "Print each layer's output shape and parameter count (torchsummary style)",
		Long: "summary prints the model of the configuration (model, input_size, width) layer by layer as\n" +
			"torchsummary does; at the default setting (alexnet) the total is 46,764,746 parameters, with --model\n" +
			"vgg11 43,093,322. --memory adds the device memory plan of a training step at batch_size and each\n" +
			"convolution's forward and backward-data algorithm (conv_algo) with the Winograd scratch memory.",
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
			if err := lo.Report(out); err != nil {
				return err
			}
			return writeConvAlgos(out, lo)
		},
	}
	cmd.Flags().BoolVar(&memory, "memory", false, "also print the device memory of a training step at batch_size")
	addConfigFlags(cmd, summaryKeys...)
	return cmd
}

// writeConvAlgos writes each convolution pass's algorithm and why, the
// shared Winograd scratch memory and the plan's ConvNote, for a device
// other than the reference without a binding limit (train logs the
// device's own choice, after tuning).
func writeConvAlgos(w io.Writer, lo *graph.Layout) error {
	cs := lo.ConvAlgos()
	if len(cs) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nConvolution algorithms (conv_algo %s; on a device other than ref, before tuning: train logs the device's):\n", lo.Config().ConvAlgo)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "layer\tpass\talgorithm\twhy\n")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, c.Pass, c.Algo, c.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "Winograd scratch (U, V, M, shared by every Winograd pass): %s\n", graph.MiB(lo.ScratchBytes()))
	if note := lo.ConvNote(); note != "" {
		fmt.Fprintln(w, note)
	}
	return nil
}
