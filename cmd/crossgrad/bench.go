package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossgrad/crossgrad/bench"
	"github.com/crossgrad/crossgrad/config"
)

// version is crossgrad's version, set at link time with
// -ldflags "-X main.version=v1.2.3"; empty means a development build (see
// versionString).
var version = ""

// versionString is version, or "dev" with the VCS revision, time and a
// "+dirty" mark recorded by the Go toolchain when the binary was built from
// a checkout.
func versionString() string {
	if version != "" {
		return version
	}
	v := "dev"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	var rev, when, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " " + rev + dirty
		if when != "" {
			v += " (" + when + ")"
		}
	}
	return v
}

// benchFlags are the flags of the bench command.
type benchFlags struct {
	devices           []string
	runs, warmup      int
	batch, cpuBatch   int
	inputSize         int
	width             float64
	configFile        string
	asJSON, asMD      bool
	from              string
	compare           string
	python            string
	skip              []string
	coldChild         bool
	coldBatch         int
	coldTimeout       time.Duration
	pytorchTimeoutMin float64
}

func newBenchCmd() *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmark devices: ceilings, every kernel at AlexNet's shapes, a training step, cold start",
		Long: "bench measures, on each selected device (default: every device found, the reference backend too):\n" +
			"  - the device's ceilings: FMA throughput and copy bandwidth from peak kernels of its own;\n" +
			"  - every kernel at the real shapes of an AlexNet training step (GFLOP/s or GB/s, % of the ceilings);\n" +
			"  - the full training step (images/sec) with a per-layer forward/backward/update table;\n" +
			"  - the cold start (open, kernel builds / pipeline creation, first step) in fresh processes with the\n" +
			"    driver caches cold, then warm.\n" +
			"Each figure is the median [min-max] of --runs timed runs after --warmup, from the device's timers (OpenCL\n" +
			"profiling events, Vulkan timestamps) with the host wall time alongside. GPUs run the configured batch\n" +
			"size (default 128), CPU drivers and the reference backend --cpu-batch (default 8) unless --batch is given.\n" +
			"--compare pytorch runs the same step in PyTorch (python3 with torch; skipped with a note without it) and\n" +
			"prints the ratio per device. Output: tables, --json or --md; --from FILE re-renders a saved --json report.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBench(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.devices, "device", []string{"all"}, `devices to benchmark: "all", "gpu" (every GPU), a backend ("opencl"), a device ("opencl:1", "vulkan:nvidia", "ref"); repeat or comma-separate`)
	fl.IntVar(&f.runs, "runs", 5, "timed runs per figure")
	fl.IntVar(&f.warmup, "warmup", 1, "untimed warm-up runs before them")
	fl.IntVar(&f.batch, "batch", 0, "batch on every device (0: the configured batch_size on GPUs, --cpu-batch elsewhere)")
	fl.IntVar(&f.cpuBatch, "cpu-batch", bench.DefaultCPUBatch, "batch on CPU drivers and the reference backend when --batch is 0")
	fl.IntVar(&f.inputSize, "input-size", 0, "input side (0: the configured input_size, 224 by default)")
	fl.Float64Var(&f.width, "width", 0, "channel width multiplier (0: the configured width)")
	fl.StringVar(&f.configFile, "config", "", "configuration file or embedded name (default, cpu-quick) giving batch_size, input_size, width, Adam, seed")
	fl.BoolVar(&f.asJSON, "json", false, "print the report as JSON")
	fl.BoolVar(&f.asMD, "md", false, "print the report as Markdown")
	fl.StringVar(&f.from, "from", "", "render a report saved with --json instead of measuring")
	fl.StringVar(&f.compare, "compare", "", `"pytorch": run the same step in PyTorch and print the ratio per device`)
	fl.StringVar(&f.python, "python", "", "python interpreter with torch (default: python3, then /usr/bin/python3)")
	fl.Float64Var(&f.pytorchTimeoutMin, "pytorch-timeout", 10, "minutes allowed to each PyTorch run")
	fl.StringSliceVar(&f.skip, "skip", nil, "sections to skip: "+strings.Join(bench.Sections, ", "))
	fl.DurationVar(&f.coldTimeout, "cold-timeout", 10*time.Minute, "time allowed to each cold-start child process")
	fl.BoolVar(&f.coldChild, "cold-child", false, "internal: measure one cold start of --device and print it as JSON")
	fl.IntVar(&f.coldBatch, "cold-batch", 0, "internal: batch of --cold-child")
	_ = fl.MarkHidden("cold-child")
	_ = fl.MarkHidden("cold-batch")
	return cmd
}

func runBench(cmd *cobra.Command, f benchFlags) error {
	out := cmd.OutOrStdout()
	if f.asJSON && f.asMD {
		return fmt.Errorf("bench: --json and --md are exclusive")
	}
	if f.from != "" {
		fh, err := os.Open(f.from)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer fh.Close()
		rep, err := bench.ReadJSON(fh)
		if err != nil {
			return fmt.Errorf("bench: reading %s: %w", f.from, err)
		}
		return writeReport(out, rep, f)
	}
	cfg, err := benchConfig(f)
	if err != nil {
		return err
	}
	if f.coldChild {
		if len(f.devices) != 1 || f.coldBatch < 1 {
			return fmt.Errorf("bench: --cold-child needs one --device and --cold-batch")
		}
		r := bench.MeasureCold(f.devices[0], cfg, f.coldBatch, nil)
		return json.NewEncoder(out).Encode(r)
	}
	if f.compare != "" && f.compare != "pytorch" {
		return fmt.Errorf("bench: --compare %q: only \"pytorch\" is known", f.compare)
	}
	skip := map[string]bool{}
	for _, s := range f.skip {
		s = strings.TrimSpace(s)
		if !slices.Contains(bench.Sections, s) {
			return fmt.Errorf("bench: --skip %q: sections are %s", s, strings.Join(bench.Sections, ", "))
		}
		skip[s] = true
	}
	if f.runs < 1 || f.warmup < 0 {
		return fmt.Errorf("bench: --runs %d must be >= 1 and --warmup %d >= 0", f.runs, f.warmup)
	}
	targets, err := bench.Targets(f.devices)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	opts := bench.Options{Targets: targets, Config: cfg, CPUBatch: f.cpuBatch, Runs: f.runs, Warmup: f.warmup,
		Skip: skip, Log: cmd.ErrOrStderr(), Version: versionString(), Command: "crossgrad " + strings.Join(os.Args[1:], " ")}
	if f.warmup == 0 {
		opts.Warmup = -1
	}
	if f.batch > 0 {
		opts.CPUBatch = f.batch
	}
	if exe, err := os.Executable(); err == nil {
		opts.Cold = bench.ChildRunner(exe, coldArgs(f, cfg), f.coldTimeout)
	} else {
		fmt.Fprintf(cmd.ErrOrStderr(), "bench: cold start skipped: %v\n", err)
	}
	if f.compare == "pytorch" {
		opts.PyTorch = &bench.PyTorchOptions{Python: f.python, Timeout: time.Duration(f.pytorchTimeoutMin * float64(time.Minute))}
	}
	rep, err := bench.Run(cmd.Context(), opts)
	if err != nil {
		return err
	}
	return writeReport(out, rep, f)
}

// coldArgs are the child's arguments: the same model and configuration.
func coldArgs(f benchFlags, cfg config.Config) func(id string, batch int) []string {
	return func(id string, batch int) []string {
		args := []string{"bench", "--cold-child", "--device", id, "--cold-batch", fmt.Sprint(batch),
			"--input-size", fmt.Sprint(cfg.InputSize), "--width", fmt.Sprint(cfg.Width)}
		if f.configFile != "" {
			args = append(args, "--config", f.configFile)
		}
		return args
	}
}

// benchConfig is the configuration of --config (CROSSGRAD_* variables
// apply) with --batch, --input-size and --width on top.
func benchConfig(f benchFlags) (config.Config, error) {
	cfg, err := config.Load(f.configFile, os.Environ(), nil)
	if err != nil {
		return cfg, err
	}
	if f.batch > 0 {
		cfg.BatchSize = f.batch
	}
	if f.inputSize > 0 {
		cfg.InputSize = f.inputSize
	}
	if f.width > 0 {
		cfg.Width = f.width
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("bench: %w", err)
	}
	return cfg, nil
}

func writeReport(w io.Writer, rep *bench.Report, f benchFlags) error {
	switch {
	case f.asJSON:
		return rep.WriteJSON(w)
	case f.asMD:
		return rep.WriteMarkdown(w)
	}
	return rep.WriteText(w)
}
