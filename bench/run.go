package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/train"
)

// Sections of the benchmark that Options.Skip can name.
const (
	SecCeilings = "ceilings" // peak FMA and copy kernels
	SecKernels  = "kernels"  // every kernel at real shapes, and the per-layer table
	SecStep     = "step"     // the full training step
	SecCold     = "cold"     // cold start in child processes
)

// Sections lists every section name, in run order.
var Sections = []string{SecCold, SecCeilings, SecKernels, SecStep}

// Options configure Run.
type Options struct {
	// Targets are the devices to benchmark, in order (see Targets).
	Targets []backend.Info
	// Config gives the model (model, input size, width, dropout, seed), Adam's
	// hyper-parameters and, as BatchSize, the batch of every device: the
	// batch train runs, so that the images/s of both compare.
	Config config.Config
	// CPUBatch, when > 0, replaces the batch on CPU drivers and the
	// reference backend (a quicker look whose rates are then not those of
	// train).
	CPUBatch int
	// Runs timed runs after Warmup untimed ones per figure (0: 5 and 1;
	// Warmup < 0 means none).
	Runs, Warmup int
	// Skip names sections not to run (SecCold, ...).
	Skip map[string]bool
	// Cold runs one cold-start child process; nil skips the section.
	Cold ColdRunner
	// Open opens a device by its ID (nil: backend.Open).
	Open func(id string) (backend.Device, error)
	// PyTorch, when not nil, runs the same step in PyTorch after the
	// devices and fills Report.PyTorch and each device's VsTorch.
	PyTorch *PyTorchOptions
	// Log receives progress lines (nil: none).
	Log io.Writer
	// Logger receives the log lines of tuning (Config.Tune: the cache
	// file, the configurations used, warnings); nil writes them to Log.
	Logger *slog.Logger
	// Version is crossgrad's version for the stamp; Command the command
	// line.
	Version, Command string
}

func (o Options) withDefaults() Options {
	if o.Runs <= 0 {
		o.Runs = 5
	}
	if o.Warmup == 0 {
		o.Warmup = 1
	} else if o.Warmup < 0 {
		o.Warmup = 0
	}
	if o.Open == nil {
		o.Open = backend.Open
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(o.Log, nil))
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	return o
}

// BatchFor is the batch a device is benchmarked at: the configured batch
// size, or CPUBatch on CPU drivers and the reference backend when set.
func (o Options) BatchFor(info backend.Info) int {
	if !isGPU(info) && o.CPUBatch > 0 {
		return o.CPUBatch
	}
	return o.Config.BatchSize
}

func isGPU(info backend.Info) bool {
	return info.Type == backend.DiscreteGPU || info.Type == backend.IntegratedGPU
}

// Targets resolves device selections to the devices to benchmark: "all",
// "auto" or "" is every device found (the reference backend last); "gpu"
// every GPU of every backend (an error listing what exists when there is
// none); any other entry is a selection as backend.Select takes it
// ("opencl", "opencl:1", "vulkan:nvidia", "ref") and gives every device it
// matches. An unknown name is an error listing what exists.
func Targets(specs []string) ([]backend.Info, error) {
	if len(specs) == 0 {
		specs = []string{"all"}
	}
	var out []backend.Info
	seen := map[string]bool{}
	for _, s := range specs {
		s = strings.TrimSpace(strings.ToLower(s))
		gpuOnly := s == "gpu"
		if s == "" || s == "all" || gpuOnly {
			s = "auto"
		}
		cands, err := backend.Select(s)
		if err != nil {
			return nil, err
		}
		if gpuOnly {
			cands = slices.DeleteFunc(cands, func(i backend.Info) bool { return !isGPU(i) })
			if len(cands) == 0 {
				return nil, fmt.Errorf("device \"gpu\": no GPU found by any backend; available: %s", available())
			}
		}
		for _, i := range cands {
			if !seen[i.ID()] {
				seen[i.ID()] = true
				out = append(out, i)
			}
		}
	}
	return out, nil
}

// available lists every device found and why a backend has none.
func available() string {
	var parts []string
	for _, f := range backend.Enumerate() {
		if f.Err != nil {
			parts = append(parts, fmt.Sprintf("%s: unavailable (%v)", f.Backend, f.Err))
			continue
		}
		for _, d := range f.Devices {
			parts = append(parts, fmt.Sprintf("%s = %s (%s)", d.ID(), d.Name, d.Type))
		}
	}
	return strings.Join(parts, "; ")
}

// Run benchmarks every target in turn. A device that fails to open, or a
// section or kernel that fails, is reported in its row with the error and
// the rest still runs; Run itself fails only when ctx is cancelled before
// any device finished.
func Run(ctx context.Context, opts Options) (*Report, error) {
	o := opts.withDefaults()
	rep := &Report{Stamp: NewStamp(o.Version, o.Command), Settings: Settings{
		Model: o.Config.Model, InputSize: o.Config.InputSize, Width: o.Config.Width, GPUBatch: o.Config.BatchSize, CPUBatch: o.BatchFor(backend.Info{Type: backend.CPUDevice}),
		Runs: o.Runs, Warmup: o.Warmup, Seed: o.Config.Seed, Tune: o.Config.Tune, ConvAlgo: o.Config.ConvAlgo, NoFuse: !o.Config.Fuse}}
	for _, info := range o.Targets {
		if err := ctx.Err(); err != nil {
			if len(rep.Devices) == 0 {
				return nil, err
			}
			break
		}
		fmt.Fprintf(o.Log, "bench: %s (%s)\n", info.ID(), info.Name)
		rep.Devices = append(rep.Devices, benchDevice(ctx, info, o))
	}
	if o.PyTorch != nil && ctx.Err() == nil {
		compareTorch(ctx, rep, o)
	}
	rep.Stamp.LoadAfter = loadAvg()
	return rep, nil
}

// NewStamp stamps a report made now on this machine.
func NewStamp(version, command string) Stamp {
	host, _ := os.Hostname()
	return Stamp{Version: version, Date: time.Now().UTC().Truncate(time.Second), Host: host,
		OS: runtime.GOOS + "/" + runtime.GOARCH + kernelRelease(), CPU: cpuModel(), Cores: runtime.NumCPU(),
		GoVersion: runtime.Version(), LoadBefore: loadAvg(), Command: command}
}

func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return " " + strings.TrimSpace(string(b))
}

// cpuModel is the first "model name" of /proc/cpuinfo ("" elsewhere).
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAvg is the 1-minute load average (-1 when unknown).
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	var l float64
	if _, err := fmt.Sscan(string(b), &l); err != nil {
		return -1
	}
	return l
}

// NewPlan builds the model of c as train does (train.NewModel,
// train.GraphConfig) and plans it for batch images on dev, with random
// images and labels (fixed seed) uploaded: ready for TrainStep.
func NewPlan(dev backend.Device, c config.Config, batch int) (*graph.Plan, error) {
	m, err := train.NewModel(c)
	if err != nil {
		return nil, err
	}
	plan, err := graph.New(dev, m.Sequential, m.InputShape(batch), train.GraphConfig(c))
	if err != nil {
		return nil, err
	}
	img := make([]byte, batch*plan.Layout().Config().Input.ImageBytes())
	lab := make([]int, batch)
	x := uint32(12345)
	for i := range img {
		x = x*1664525 + 1013904223
		img[i] = byte(x >> 24)
	}
	for i := range lab {
		lab[i] = i % 10
	}
	if err := plan.Upload(img, lab); err != nil {
		plan.Close()
		return nil, err
	}
	return plan, nil
}

// errString is err's message, "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
