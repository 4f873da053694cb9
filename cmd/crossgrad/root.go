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
	}
	root.AddCommand(newDevicesCmd(), newSelftestCmd(), newTrainCmd(), newEvalCmd(), newSummaryCmd(), newBenchCmd())
	return root
}
