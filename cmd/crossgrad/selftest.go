package main

import (
	"errors"
	"fmt"
	"slices"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	"github.com/spf13/cobra"
)

func newSelftestCmd() *cobra.Command {
	var devices []string
	var filter string
	var short bool
	cmd := &cobra.Command{
		Use:   "selftest",
		Short: "Check every kernel, forward and backward, on a device against the pure-Go reference",
		Long: "selftest runs the conformance suite on your device: every kernel of the closed list on random\n" +
			"inputs over many shapes, compared with the reference backend. It prints a pass/fail table with the\n" +
			"worst error per kernel and exits non-zero on any failure. It also checks every tuned configuration the\n" +
			"tuning cache would make the device use (crossgrad tune, tune: auto), each named kernel/tuned SHAPE for\n" +
			"--filter. --device auto tests every GPU and CPU device, gpu every GPU, all every device (the reference\n" +
			"too), a backend or backend:selector its best match.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cands, err := selftestTargets(devices)
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
				if err := rep.Format(out); err != nil {
					_ = dev.Close()
					return err
				}
				tunedFailed, err := checkTuned(out, dev, filter)
				closeErr := dev.Close()
				if err != nil {
					return err
				}
				if rep.Failed() || tunedFailed || closeErr != nil {
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
	addDeviceFlag(cmd.Flags(), &devices, []string{"auto"}, `devices to test: "auto" (every device except ref), "gpu", "all", "opencl", "opencl:1", "vulkan:nvidia", "ref"; repeat or comma-separate`)
	cmd.Flags().StringVar(&filter, "filter", "", `only checks whose "kernel/case" contains this text`)
	cmd.Flags().BoolVar(&short, "short", false, "skip the AlexNet-width cases")
	return cmd
}

// selftestTargets is the devices specs select, each once: every
// non-reference device for "auto", every device for "all", every GPU for
// "gpu", else the best match of the entry.
func selftestTargets(specs []string) ([]backend.Info, error) {
	var out []backend.Info
	seen := map[string]bool{}
	for _, spec := range specs {
		cands, err := backend.Select(spec)
		if err != nil {
			return nil, err
		}
		switch spec {
		case "auto":
			cands = slices.DeleteFunc(cands, func(c backend.Info) bool { return c.Type == backend.Reference })
			if len(cands) == 0 {
				return nil, errors.New("no OpenCL or Vulkan device found; run `crossgrad devices` to see why, or use --device ref")
			}
		case "all", "gpu":
		default:
			cands = cands[:1]
		}
		for _, c := range cands {
			if !seen[c.ID()] {
				seen[c.ID()] = true
				out = append(out, c)
			}
		}
	}
	return out, nil
}
