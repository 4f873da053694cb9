// Command crossgrad trains AlexNet on Fashion-MNIST on any OpenCL or Vulkan
// device, lists devices, checks them against the reference backend and
// benchmarks them.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "crossgrad:", err)
		os.Exit(1)
	}
}
