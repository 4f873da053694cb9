package bench

import (
	"time"
)

// amdReport is a saved report of an AMD box: one Vulkan GPU
// with ceilings, two kernels, the step and a PyTorch comparison.
func amdReport() *Report {
	return &Report{
		Stamp: Stamp{Version: "v1.2.0", Date: time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC), Host: "amd-box",
			CPU: "AMD Ryzen 9 7950X", Cores: 32, OS: "linux/amd64"},
		Settings: Settings{InputSize: 224, Width: 1, GPUBatch: 128, CPUBatch: 128, Runs: 5, Warmup: 1},
		Devices: []DeviceReport{{
			ID: "vulkan:0", Backend: "vulkan", Name: "AMD Radeon RX 7900 XTX", Vendor: "AMD", Type: "discrete-gpu",
			Driver: "radv 24.2", Timer: "device", Batch: 128,
			Ceilings: &Ceilings{FMA: Stat{Median: 40000, Min: 39000, Max: 41000, N: 5}, Copy: Stat{Median: 800, Min: 790, Max: 810, N: 5}},
			Kernels: []KernelRow{
				{Kernel: "conv2d_fwd", Where: "conv.0 forward", Shape: "128x1x224x224", Calls: 1, Compute: true,
					Device: Stat{Median: 2, Min: 2, Max: 2, N: 5}, GFLOPS: 21000, PctFMA: 52.5},
				{Kernel: "relu_fwd", Where: "conv.0 forward", Shape: "n=6000000", Calls: 1,
					Device: Stat{Median: 0.1, Min: 0.1, Max: 0.1, N: 5}, GBPS: 1426, PctCopy: 178.3},
			},
			Layers: []LayerRow{{Layer: "conv.0", Type: "Conv2d", Phase: "forward", FLOP: 4e10, Device: Stat{Median: 2, Min: 2, Max: 2, N: 5}}},
			Step: &StepResult{Batch: 128, InputSize: 224, ImagesPerSec: Stat{Median: 1500, Min: 1400, Max: 1550, N: 5},
				Wall: Stat{Median: 85, Min: 82, Max: 91, N: 5}},
			VsTorch: &TorchRatio{Against: "pytorch cuda", Ratio: 1.1},
		}},
		PyTorch: []PyTorchResult{{Label: "pytorch cuda", Device: "cuda", Torch: "2.5.1", Batch: 128, InputSize: 224,
			ImagesPerSec: Stat{Median: 1363.6, Min: 1300, Max: 1400, N: 5}}},
	}
}

// intelReport is a saved report of an Intel laptop: an OpenCL integrated
// GPU whose relu kernel failed, and the reference backend (no ceilings),
// with PyTorch's CPU runs.
func intelReport() *Report {
	return &Report{
		Stamp: Stamp{Version: "v1.2.0", Date: time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC), Host: "intel-laptop",
			CPU: "Intel Core i7-1265U", Cores: 12, OS: "linux/amd64"},
		Settings: Settings{InputSize: 224, Width: 1, GPUBatch: 128, CPUBatch: 128, Runs: 5, Warmup: 1},
		Devices: []DeviceReport{
			{ID: "opencl:0", Backend: "opencl", Name: "Intel(R) UHD Graphics", Vendor: "Intel", Type: "integrated-gpu",
				Driver: "24.35.30872", Timer: "device", Batch: 128,
				Ceilings: &Ceilings{FMA: Stat{Median: 1800, N: 1}, Copy: Stat{Median: 60, N: 1}},
				Kernels: []KernelRow{
					{Kernel: "conv2d_fwd", Where: "conv.0 forward", Compute: true, GFLOPS: 540, PctFMA: 30},
					{Kernel: "relu_fwd", Where: "conv.0 forward", Err: "CL_OUT_OF_RESOURCES"},
					{Kernel: "gemm", Where: "fc.1 forward", Compute: true, GFLOPS: 900, PctFMA: 50},
				},
				Step: &StepResult{Batch: 128, InputSize: 224, ImagesPerSec: Stat{Median: 95.5, N: 1}}},
			{ID: "ref:0", Backend: "ref", Name: "pure-Go reference", Type: "reference", Timer: "host", Batch: 128,
				Ceilings: &Ceilings{Err: "n/a: the ref backend has no peak kernels"},
				Kernels:  []KernelRow{{Kernel: "conv2d_fwd", Where: "conv.0 forward", Compute: true, GFLOPS: 3}},
				Step:     &StepResult{Batch: 128, InputSize: 224, ImagesPerSec: Stat{Median: 1.5, N: 1}},
				VsTorch:  &TorchRatio{Against: "pytorch cpu (malloc kept)", Ratio: 0.05}},
		},
		PyTorch: []PyTorchResult{
			{Label: "pytorch cpu", Device: "cpu", Batch: 128, InputSize: 224, ImagesPerSec: Stat{Median: 12, N: 1}},
			{Label: "pytorch cpu (malloc kept)", Device: "cpu", Batch: 128, InputSize: 224, Env: MallocTunables,
				ImagesPerSec: Stat{Median: 30, N: 1}},
		},
	}
}
