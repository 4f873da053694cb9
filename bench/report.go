// Package bench is the benchmark behind `crossgrad bench`: on each selected
// device it measures the device's ceilings (peak FMA throughput and copy
// bandwidth from peak kernels of its own), every kernel at the real AlexNet
// shapes of a training step, one full training step with a per-layer table,
// and the cold start (device open, kernel builds or pipeline creation, first
// step) with the driver caches cold and warm; optionally the same step in
// PyTorch side by side. Every figure is the median of N timed runs after
// warm-up, with min and max, from the device's timers (backend.KernelTimer)
// with the host wall time alongside. Results are a Report, written as a
// terminal table, JSON or Markdown.
package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Report is the outcome of one benchmark invocation.
type Report struct {
	Stamp    Stamp           `json:"stamp"`
	Settings Settings        `json:"settings"`
	Devices  []DeviceReport  `json:"devices"`
	PyTorch  []PyTorchResult `json:"pytorch,omitempty"`
	// PyTorchNote says why the PyTorch comparison was skipped, when it was
	// asked for and could not run.
	PyTorchNote string `json:"pytorch_note,omitempty"`
}

// Stamp identifies where and when a report was made.
type Stamp struct {
	Version   string    `json:"crossgrad_version"`
	Date      time.Time `json:"date"`
	Host      string    `json:"host"`
	OS        string    `json:"os"` // GOOS/GOARCH and the kernel release
	CPU       string    `json:"cpu"`
	Cores     int       `json:"cores"`
	GoVersion string    `json:"go_version"`
	// LoadBefore and LoadAfter are /proc/loadavg's 1-minute load at the
	// start and the end (other work on the machine skews every figure).
	LoadBefore float64 `json:"load_before"`
	LoadAfter  float64 `json:"load_after"`
	Command    string  `json:"command,omitempty"`
}

// Settings are the benchmark parameters shared by every device.
type Settings struct {
	// Model is the architecture benchmarked ("" in reports made before
	// models were a choice: alexnet).
	Model     string  `json:"model,omitempty"`
	InputSize int     `json:"input_size"`
	Width     float64 `json:"width"`
	// GPUBatch is the batch of GPU devices (the configured batch size) and
	// CPUBatch that of CPU drivers and the reference backend (the same
	// unless told otherwise).
	GPUBatch int   `json:"gpu_batch"`
	CPUBatch int   `json:"cpu_batch"`
	Runs     int   `json:"runs"`
	Warmup   int   `json:"warmup"`
	Seed     int64 `json:"seed"`
	// Tune is the configuration key tune the devices ran with (off, cached
	// or auto; "" in reports made before tuning existed).
	Tune string `json:"tune,omitempty"`
	// ConvAlgo and NoFuse are the keys conv_algo and !fuse the plans were
	// made with ("" and false in reports made before them).
	ConvAlgo string `json:"conv_algo,omitempty"`
	NoFuse   bool   `json:"no_fuse,omitempty"`
}

// DeviceReport is everything measured on one device. Err is set when the
// device could not be opened or planned; the sections measured before that
// stay.
type DeviceReport struct {
	ID      string `json:"id"`
	Backend string `json:"backend"`
	Name    string `json:"name"`
	Vendor  string `json:"vendor"`
	Type    string `json:"type"`
	Driver  string `json:"driver"`
	// Timer is "device" when figures come from the device's own timers
	// (OpenCL profiling events, Vulkan timestamps), "host" when only wall
	// time exists (the reference backend).
	Timer string `json:"timer"`
	Batch int    `json:"batch"`
	Err   string `json:"error,omitempty"`
	// Tune is the tune mode applied to the device's tile engine ("" for a
	// device without one); TuneCache the tuning cache file it read and
	// wrote; TunedShapes of TiledShapes distinct tiled dispatches of the
	// step ran a configuration other than the default.
	Tune        string `json:"tune,omitempty"`
	TuneCache   string `json:"tune_cache,omitempty"`
	TunedShapes int    `json:"tuned_shapes,omitempty"`
	TiledShapes int    `json:"tiled_shapes,omitempty"`
	// ConvAlgos lists each convolution layer's forward/backward-data/backward-filter
	// algorithm after tuning (graph.ConvAlgoLine); StepDispatches counts
	// the dispatches of one training step.
	ConvAlgos      string `json:"conv_algos,omitempty"`
	StepDispatches int    `json:"step_dispatches,omitempty"`

	Ceilings *Ceilings   `json:"ceilings,omitempty"`
	Cold     *ColdStart  `json:"cold_start,omitempty"`
	Kernels  []KernelRow `json:"kernels,omitempty"`
	Layers   []LayerRow  `json:"layers,omitempty"`
	Step     *StepResult `json:"step,omitempty"`
	VsTorch  *TorchRatio `json:"vs_pytorch,omitempty"`
	Seconds  float64     `json:"seconds"` // wall time spent benchmarking the device
}

// Ceilings are the device's measured peaks. Err says why they are missing
// (a backend without peak kernels reports "n/a").
type Ceilings struct {
	FMA  Stat   `json:"fma_gflops"`
	Copy Stat   `json:"copy_gbps"`
	Err  string `json:"error,omitempty"`
}

// KernelRow is one kernel at one real shape of the training step (or, for
// Where "extra", a kernel the step does not use, at the largest parameter's
// size). Times are per step, in milliseconds: Calls dispatches summed.
type KernelRow struct {
	Kernel string  `json:"kernel"`
	Where  string  `json:"where"` // "conv.3 backward", "all layers update"
	Shape  string  `json:"shape"`
	Calls  int     `json:"calls"`
	FLOP   float64 `json:"flop"`
	Bytes  float64 `json:"bytes"`
	// Compute marks FLOP-bound kernels (held to the FMA ceiling).
	Compute bool `json:"compute"`
	// TileDefault is the backend's default tile configuration of a tiled
	// kernel (gemm, the convolutions) at this shape and TileChosen the one
	// it ran with (tune: cached or auto); "" for other kernels and devices
	// without a tile engine.
	TileDefault string `json:"tile_default,omitempty"`
	TileChosen  string `json:"tile_chosen,omitempty"`
	Device      Stat   `json:"device_ms"`
	Wall        Stat   `json:"wall_ms"`
	// GFLOPS and GBPS use the device median (the wall median without a
	// device timer); PctFMA and PctCopy relate them to the ceilings.
	GFLOPS  float64 `json:"gflops,omitempty"`
	GBPS    float64 `json:"gbps,omitempty"`
	PctFMA  float64 `json:"pct_fma,omitempty"`
	PctCopy float64 `json:"pct_copy,omitempty"`
	Err     string  `json:"error,omitempty"`
}

// LayerRow is one layer's part of a training step in one phase (forward,
// backward, update), timed with a wait after every dispatch.
type LayerRow struct {
	Layer  string  `json:"layer"`
	Type   string  `json:"type"`
	Phase  string  `json:"phase"`
	FLOP   float64 `json:"flop"`
	Device Stat    `json:"device_ms"`
	Wall   Stat    `json:"wall_ms"`
	Err    string  `json:"error,omitempty"`
}

// StepResult is the full training step (graph.Plan.TrainStep: resize,
// forward, loss, backward, Adam, one read of the statistics) at Batch.
type StepResult struct {
	Batch     int `json:"batch"`
	InputSize int `json:"input_size"`
	// Wall is the host time per step; Device the summed kernel time.
	Wall         Stat    `json:"wall_ms"`
	Device       Stat    `json:"device_ms"`
	ImagesPerSec Stat    `json:"images_per_sec"`
	FLOP         float64 `json:"flop"`   // per step
	GFLOPS       float64 `json:"gflops"` // FLOP / median wall
	// ProfiledDevice and ProfiledWall are the per-layer table's totals
	// (medians summed; a wait after every dispatch).
	ProfiledDevice float64 `json:"profiled_device_ms"`
	ProfiledWall   float64 `json:"profiled_wall_ms"`
	Err            string  `json:"error,omitempty"`
}

// ColdStart is the time to first result in fresh processes, first with
// empty driver caches (Cold), then with the caches the first run filled
// (Warm).
type ColdStart struct {
	Cold ColdRun `json:"cold"`
	Warm ColdRun `json:"warm"`
	Err  string  `json:"error,omitempty"`
}

// ColdRun is one fresh process: milliseconds to open the device (OpenCL
// builds its program here), to plan the model (allocate and initialise),
// the first training step (lazy pipeline creation and first-launch
// compilation land here) and the second step (steady state, for contrast).
type ColdRun struct {
	OpenMs       float64 `json:"open_ms"`
	PlanMs       float64 `json:"plan_ms"`
	FirstStepMs  float64 `json:"first_step_ms"`
	SecondStepMs float64 `json:"second_step_ms"`
	TotalMs      float64 `json:"total_ms"` // open + plan + first step
	Err          string  `json:"error,omitempty"`
}

// TorchRatio compares a device's training-step images/sec with PyTorch's
// best run of the matching kind (cuda for GPUs, cpu otherwise) at the same
// batch and input size.
type TorchRatio struct {
	Against string  `json:"against"` // the PyTorchResult's Label
	Ratio   float64 `json:"ratio"`   // crossgrad / PyTorch images/sec (medians)
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadJSON parses a report written by WriteJSON; JSON that is not such a
// report (no devices, a device without an ID) is refused.
func ReadJSON(rd io.Reader) (*Report, error) {
	var r Report
	dec := json.NewDecoder(rd)
	if err := dec.Decode(&r); err != nil {
		return nil, err
	}
	if len(r.Devices) == 0 {
		return nil, errors.New("it holds no devices")
	}
	for i, d := range r.Devices {
		if d.ID == "" {
			return nil, fmt.Errorf("device %d has no id", i+1)
		}
	}
	return &r, nil
}
