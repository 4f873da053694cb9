package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/data"
	"github.com/crossgrad/crossgrad/train"
)

// evalKeys are the configuration keys eval reads: the device, the test set
// and how it is batched, the model shape (when the checkpoint stores none)
// and the log.
var evalKeys = []string{"backend", "data_dir", "test_limit", "batch_size", "model", "input_size", "width", "log_level", "quiet"}

func newEvalCmd() *cobra.Command {
	var ckpt string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "eval --checkpoint PATH",
		Short: "Evaluate a checkpoint on the test set: accuracy, per-class accuracy and the confusion matrix",
		Long: "eval loads a checkpoint (a file, or a run folder: its latest checkpoint), builds the model with the\n" +
			"model, input size and width stored in it (or --model/--input-size/--width when given), and evaluates it on the\n" +
			"Fashion-MNIST test set on the configured device. --json prints the report as one JSON object.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ckpt == "" {
				return fmt.Errorf("eval: --checkpoint is required (a checkpoint file or a run folder)")
			}
			cfg, explicit, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			bar := newTermProgress(cmd.ErrOrStderr())
			log := newLogger(cmd.ErrOrStderr(), cfg.LogLevel, cfg.Quiet, bar)
			for _, w := range cfg.Warnings {
				log.Warn(w)
			}
			rep, err := train.EvalCheckpoint(cmd.Context(), train.EvalOptions{Config: cfg, Explicit: explicit, Checkpoint: ckpt, Log: log,
				Progress: newProgress(bar, log, cfg.Quiet)})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeEvalJSON(out, rep)
			}
			fmt.Fprintf(out, "checkpoint %s (%s) on %s, %.2f s\n", rep.Checkpoint, rep.Model, rep.Device, rep.Seconds)
			return rep.Format(out)
		},
	}
	cmd.Flags().StringVar(&ckpt, "checkpoint", "", "checkpoint file, or a run folder (its latest checkpoint)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON (accuracy, per-class accuracy, confusion matrix, checkpoint, model, device, seconds)")
	addConfigFlags(cmd, evalKeys...)
	config.AddFlagAlias(cmd.Flags(), "limit", config.FlagName("test_limit"))
	cmd.Flags().Lookup(config.FlagName("test_limit")).Usage += " (alias --limit)"
	return cmd
}

// evalJSON is eval's report as --json prints it.
type evalJSON struct {
	Checkpoint string      `json:"checkpoint"`
	Model      string      `json:"model"`
	Device     string      `json:"device"`
	Seconds    float64     `json:"seconds"`
	Images     int         `json:"images"`
	Correct    int         `json:"correct"`
	Accuracy   float64     `json:"accuracy"`
	Loss       float64     `json:"loss"`
	Classes    []classJSON `json:"classes"`
	// Confusion[t][p] counts images of true class t predicted as p.
	Confusion [][]int `json:"confusion"`
}

// classJSON is one class's line of the report; Accuracy is null for a
// class without images.
type classJSON struct {
	Class    int      `json:"class"`
	Name     string   `json:"name"`
	Images   int      `json:"images"`
	Correct  int      `json:"correct"`
	Accuracy *float64 `json:"accuracy"`
}

// writeEvalJSON writes rep as an indented evalJSON object.
func writeEvalJSON(w io.Writer, rep *train.EvalReport) error {
	j := evalJSON{Checkpoint: rep.Checkpoint, Model: rep.Model, Device: rep.Device, Seconds: rep.Seconds,
		Images: rep.N, Correct: rep.Correct, Accuracy: rep.Accuracy(), Loss: rep.Loss}
	for t := range data.NumClasses {
		row := make([]int, data.NumClasses)
		c := classJSON{Class: t, Name: data.ClassNames[t], Correct: rep.Confusion[t][t]}
		for p := range data.NumClasses {
			row[p] = rep.Confusion[t][p]
			c.Images += row[p]
		}
		if c.Images > 0 {
			acc := float64(c.Correct) / float64(c.Images)
			c.Accuracy = &acc
		}
		j.Classes = append(j.Classes, c)
		j.Confusion = append(j.Confusion, row)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(j)
}
