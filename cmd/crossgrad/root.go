package main

import (
	"github.com/spf13/cobra"

	_ "github.com/crossgrad/crossgrad/backend/opencl"
	_ "github.com/crossgrad/crossgrad/backend/ref"
	_ "github.com/crossgrad/crossgrad/backend/vulkan"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "crossgrad",
		Short:         "Vendor-neutral GPU training engine: AlexNet on Fashion-MNIST over OpenCL or Vulkan",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
		// Lines logged before a command sets up its own logger (and by
		// commands without log settings) get the same format.
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			newLogger(cmd.ErrOrStderr(), "info", false, nil)
		},
	}
	root.SetVersionTemplate("crossgrad {{.Version}}\n")
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(newDevicesCmd(), newSelftestCmd(), newTrainCmd(), newEvalCmd(), newPredictCmd(), newSummaryCmd(), newBenchCmd(), newTuneCmd())
	return root
}
