package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossgrad/crossgrad/bench"
	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/train"
)

// benchFlags are the flags of the bench command.
type benchFlags struct {
	devices           []string
	runs, warmup      int
	batch, cpuBatch   int
	model             string
	inputSize         int
	width             float64
	configFile        string
	asJSON, asMD      bool
	from              []string
	compare           string
	python            string
	skip              []string
	coldChild         bool
	coldBatch         int
	coldTimeout       time.Duration
	pytorchTimeoutMin float64
	tune, tuneBudget  string
	convAlgo          string
	fuse              string
	// replicas (--devices), shares (--device-shares), distributed and
	// mpiTimeout select the data-parallel benchmark (bench_parallel.go).
	replicas    []string
	shares      []float64
	distributed string
	mpiTimeout  time.Duration
	noAlone     bool
}

func newBenchCmd() *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmark devices: ceilings, every kernel at the model's shapes (AlexNet by default), a training step, cold start",
		Long: "bench measures, on each selected device (default: every device found, the reference backend too):\n" +
			"  - the device's ceilings: FMA throughput and copy bandwidth from peak kernels of its own;\n" +
			"  - every kernel at the real shapes of a training step of the model (AlexNet; --model vgg11) (GFLOP/s or\n" +
			"    GB/s, % of the ceilings);\n" +
			"  - the full training step (images/sec) with a per-layer forward/backward/update table;\n" +
			"  - the cold start (open, kernel builds / pipeline creation, first step) in fresh processes with the\n" +
			"    driver caches cold, then warm.\n" +
			"Each figure is the median [min-max] of --runs timed runs after --warmup, from the device's timers (OpenCL\n" +
			"profiling events, Vulkan timestamps) with the host wall time alongside. Every device runs the configured\n" +
			"batch_size (128 by default, the batch train runs, so that the images/s of both compare) unless --batch\n" +
			"is given; --cpu-batch N gives CPU drivers and the reference backend a smaller batch for a quicker look.\n" +
			"--compare pytorch runs the same step in PyTorch (python3 with torch; skipped with a note without it) and\n" +
			"prints the ratio per device. --tune off|cached|auto (the key tune, cached by default) sets the tile\n" +
			"configurations of gemm and the convolutions before measuring, as train does; the kernel table shows each\n" +
			"one's default and chosen configuration. Output: tables, --json or --md; the report explains its columns.\n" +
			"--from FILE re-renders a saved --json report; --from A.json --from B.json ... lays several side by side\n" +
			"(machines, vendors, drivers) without opening any device.\n" +
			"--devices opencl:0,vulkan:0 instead trains one model data-parallel on those devices together (the\n" +
			"global batch split by their measured speed, or by --device-shares) and compares it with each device\n" +
			"alone: images/s, each replica's own time, the host reduction, its overhead and the balance; under\n" +
			"mpirun -np N with --distributed mpi (a binary built with make build-mpi), also 1 rank against N ranks\n" +
			"and the allreduce's time and GB/s. Rank 0 alone prints.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBench(cmd, f) },
	}
	fl := cmd.Flags()
	addDeviceFlag(fl, &f.devices, []string{"all"}, `devices to benchmark: "all", "gpu" (every GPU), a backend ("opencl"), a device ("opencl:1", "vulkan:nvidia", "ref"); repeat or comma-separate`)
	fl.IntVar(&f.runs, "runs", 5, "timed runs per figure")
	fl.IntVar(&f.warmup, "warmup", 1, "untimed warm-up runs before them")
	fl.IntVar(&f.batch, "batch", 0, "batch on every device (0: the configured batch_size, 128 by default)")
	fl.IntVar(&f.cpuBatch, "cpu-batch", 0, "batch on CPU drivers and the reference backend only (0: the same as every device)")
	fl.StringVar(&f.model, "model", "", "model to benchmark, e.g. alexnet or vgg11 (\"\": the configured model, alexnet by default)")
	fl.IntVar(&f.inputSize, "input-size", 0, "input side (0: the configured input_size, 224 by default)")
	fl.Float64Var(&f.width, "width", 0, "channel width multiplier (0: the configured width)")
	fl.StringVar(&f.configFile, "config", "", "configuration file or embedded name (default, cpu-quick) giving batch_size, input_size, width, Adam, seed")
	fl.BoolVar(&f.asJSON, "json", false, "print the report as JSON")
	fl.BoolVar(&f.asMD, "md", false, "print the report as Markdown")
	fl.StringArrayVar(&f.from, "from", nil, "render a report saved with --json instead of measuring; repeat to compare several side by side")
	fl.StringVar(&f.compare, "compare", "", `"pytorch": run the same step in PyTorch and print the ratio per device`)
	fl.StringVar(&f.python, "python", "", "python interpreter with torch (default: python3, then /usr/bin/python3)")
	fl.Float64Var(&f.pytorchTimeoutMin, "pytorch-timeout", 10, "minutes allowed to each PyTorch run")
	fl.StringVar(&f.tune, "tune", "", `tile configurations of gemm and the convolutions: "off" (the defaults), "cached" (the tuning cache's), "auto" (also tune what it lacks first); "": the key tune, cached by default`)
	fl.StringVar(&f.tuneBudget, "tune-budget", "", "time bound of --tune auto's search, a duration such as 60s (\"\": the key tune_budget, 60s by default)")
	fl.StringVar(&f.convAlgo, "conv-algo", "", `convolution algorithm of the 3x3 stride-1 layers: "auto", "gemm", "winograd" ("": the key conv_algo, auto by default)`)
	fl.StringVar(&f.fuse, "fuse", "", `"true" or "false": fuse bias and ReLU into the layers before them ("": the key fuse, true by default)`)
	fl.Lookup("fuse").NoOptDefVal = "true"
	fl.StringSliceVar(&f.skip, "skip", nil, "sections to skip: "+strings.Join(bench.Sections, ", "))
	fl.DurationVar(&f.coldTimeout, "cold-timeout", 10*time.Minute, "time allowed to each cold-start child process")
	fl.BoolVar(&f.coldChild, "cold-child", false, "internal: measure one cold start of --device and print it as JSON")
	fl.IntVar(&f.coldBatch, "cold-batch", 0, "internal: batch of --cold-child")
	fl.Var(&deviceList{list: &f.replicas}, "devices", `data-parallel: train one model on these devices together, one entry per device, e.g. "opencl:0,vulkan:0" (default: the key devices)`)
	fl.Float64SliceVar(&f.shares, "device-shares", nil, "data-parallel: fixed shares of the batch, one positive weight per --devices entry (default: the key device_shares; none: balanced from the measured step times)")
	fl.StringVar(&f.distributed, "distributed", "", `data-parallel across processes: "mpi" (under mpirun; needs make build-mpi), "auto" (mpi when an MPI launcher started this process), "off" ("": the key distributed, auto by default)`)
	fl.DurationVar(&f.mpiTimeout, "mpi-timeout", train.DefaultCollectiveTimeout, "data-parallel across processes: how long a rank waits for the others in one collective (rank 0's runs alone included) before it presumes them dead")
	fl.BoolVar(&f.noAlone, "no-alone", false, "data-parallel: skip each device's run alone at the global batch (no speed-up column; for a global batch too large for the slowest device alone)")
	_ = fl.MarkHidden("cold-child")
	_ = fl.MarkHidden("cold-batch")
	return cmd
}

func runBench(cmd *cobra.Command, f benchFlags) error {
	out := cmd.OutOrStdout()
	if f.asJSON && f.asMD {
		return fmt.Errorf("bench: --json and --md are exclusive")
	}
	if len(f.from) > 0 {
		return renderSaved(out, f)
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
	if parallelBench(cfg) {
		return runParallelBench(cmd, f, cfg)
	}
	if f.noAlone {
		return errors.New("bench: --no-alone applies to the data-parallel benchmark only; give --devices too, or drop it")
	}
	if f.compare != "" && f.compare != "pytorch" {
		return fmt.Errorf("bench: --compare %q: only \"pytorch\" is known", f.compare)
	}
	if f.compare == "pytorch" && cfg.Model != "alexnet" {
		return fmt.Errorf("bench: --compare pytorch runs the seed's AlexNet step only; drop it to benchmark --model %s", cfg.Model)
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
		Skip: skip, Log: cmd.ErrOrStderr(), Logger: slog.Default(), Version: versionString(), Command: "crossgrad " + strings.Join(os.Args[1:], " ")}
	if f.warmup == 0 {
		opts.Warmup = -1
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
			"--model", cfg.Model, "--input-size", fmt.Sprint(cfg.InputSize), "--width", fmt.Sprint(cfg.Width)}
		if f.configFile != "" {
			args = append(args, "--config", f.configFile)
		}
		return args
	}
}

// benchConfig is the configuration of --config (CROSSGRAD_* variables
// apply) with --batch, --model, --input-size, --width, --tune,
// --tune-budget, --devices, --device-shares and --distributed on top; the
// model named must exist and accept the input size and width.
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
	if f.model != "" {
		cfg.Model = f.model
	}
	if f.tune != "" {
		cfg.Tune = f.tune
	}
	if f.tuneBudget != "" {
		cfg.TuneBudget = f.tuneBudget
	}
	if f.convAlgo != "" {
		cfg.ConvAlgo = f.convAlgo
	}
	if f.fuse != "" {
		b, err := strconv.ParseBool(f.fuse)
		if err != nil {
			return cfg, fmt.Errorf("bench: --fuse %q: want true or false", f.fuse)
		}
		cfg.Fuse = b
	}
	if f.replicas != nil {
		cfg.Devices = f.replicas
	}
	if f.shares != nil {
		cfg.DeviceShares = f.shares
	}
	if f.distributed != "" {
		cfg.Distributed = strings.ToLower(f.distributed)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("bench: %w", err)
	}
	if _, err := train.NewModel(cfg); err != nil {
		return cfg, fmt.Errorf("bench: %w", err)
	}
	return cfg, nil
}

// renderSaved renders the reports of --from: one as it was measured,
// several side by side. No device is opened.
func renderSaved(w io.Writer, f benchFlags) error {
	reps := make([]*bench.Report, len(f.from))
	for i, file := range f.from {
		rep, err := bench.ReadJSONFile(file)
		if err != nil {
			return err
		}
		reps[i] = rep
	}
	if len(reps) == 1 {
		return writeReport(w, reps[0], f)
	}
	c, err := bench.Compare(f.from, reps)
	if err != nil {
		return err
	}
	switch {
	case f.asJSON:
		return c.WriteJSON(w)
	case f.asMD:
		return c.WriteMarkdown(w)
	}
	return c.WriteText(w)
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
