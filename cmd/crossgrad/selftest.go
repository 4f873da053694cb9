package main

import (
	"errors"
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	"github.com/spf13/cobra"
)

func newSelftestCmd() *cobra.Command {
	var device, filter string
	var short bool
	cmd := &cobra.Command{
		Use:   "selftest",
		Short: "Check every kernel, forward and backward, on a device against the pure-Go reference",
		Long: "selftest runs the conformance suite on your device: every kernel of the closed list on random\n" +
			"inputs over many shapes, compared with the reference backend. It prints a pass/fail table with the\n" +
			"worst error per kernel and exits non-zero on any failure. --device auto tests every GPU and CPU device.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cands, err := selftestTargets(device)
			if err != nil {
				return err
			}
			failed := 0
			for _, info := range cands {
				out := cmd.OutOrStdout()
				dev, err := backend.Open(info.ID())
				if err != nil {
					fmt.Fprintf(out, "%s: cannot open: %v\n\n", info.ID(), err)
					failed++
					continue
				}
				rep := backendtest.Run(dev, backendtest.Options{Filter: filter, Short: short})
				closeErr := dev.Close()
				if err := rep.Format(out); err != nil {
					return err
				}
				if rep.Failed() || closeErr != nil {
					failed++
				}
				if closeErr != nil {
					fmt.Fprintf(out, "close: %v\n", closeErr)
				}
				fmt.Fprintln(out)
			}
			if failed > 0 {
				return fmt.Errorf("selftest failed on %d of %d devices", failed, len(cands))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&device, "device", "auto", `device to test: "auto" (every device except ref), "opencl", "opencl:1", "vulkan:nvidia", "ref"`)
	cmd.Flags().StringVar(&filter, "filter", "", `only checks whose "kernel/case" contains this text`)
	cmd.Flags().BoolVar(&short, "short", false, "skip the AlexNet-width cases")
	return cmd
}

// selftestTargets is every non-reference device for "auto", else the best
// match of spec.
func selftestTargets(spec string) ([]backend.Info, error) {
	cands, err := backend.Select(spec)
	if err != nil {
		return nil, err
	}
	if spec != "auto" && spec != "" {
		return cands[:1], nil
	}
	var out []backend.Info
	for _, c := range cands {
		if c.Type != backend.Reference {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no OpenCL or Vulkan device found; run `crossgrad devices` to see why, or use --device ref")
	}
	return out, nil
}
