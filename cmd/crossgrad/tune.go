package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/train"
	"github.com/crossgrad/crossgrad/tune"
)

// tuneKeys are the configuration keys the tune command reads as flags: the
// device, the model and batch whose plan it tunes, and the log.
var tuneKeys = []string{"backend", "model", "input_size", "width", "batch_size", "log_level", "quiet"}

// budgetFlag is the tune command's flag setting tune_budget.
const budgetFlag = "budget"

func newTuneCmd() *cobra.Command {
	var asJSON bool
	var budget string
	cmd := &cobra.Command{
		Use:   "tune",
		Short: "Tune the gemm and convolution tilings of the configured model on a device and cache them",
		Long: "tune opens the configured device (--device) and plans the configured model on it (--config, --model,\n" +
			"--input-size, --width, --batch-size: the plan train runs), then tunes every distinct gemm and convolution\n" +
			"dispatch of one training step: each tile configuration the device admits is checked against the reference\n" +
			"on small cases, the survivors are timed at the real shape, the fastest is kept, within --budget (the key\n" +
			"tune_budget, 60s by default). Then, under conv_algo auto, each convolution pass that can run both ways\n" +
			"(implicit GEMM or Winograd) is timed both ways with the chosen tiles and the faster is kept: the tiles get\n" +
			"seven eighths of the budget and this timing the rest (a pass is timed once even when the rest runs out).\n" +
			"The results go to the tuning cache (crossgrad/tune under the user cache\n" +
			"folder, $XDG_CACHE_HOME or ~/.cache), which train, bench and selftest read with tune: cached or auto.\n" +
			"It prints kernel, layer, shape, default and chosen configuration, their times and the speedup, then each\n" +
			"convolution pass's algorithm with both times; --json\n" +
			"prints them as JSON. The reference backend has no tile engine: nothing to tune.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTune(cmd, budget, asJSON) },
	}
	addConfigFlags(cmd, tuneKeys...)
	cmd.Flags().StringVar(&budget, budgetFlag, "", "time bound of the whole search, a duration such as 90s or 2m (default: the key tune_budget, 60s)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON")
	return cmd
}

// tuneReport is what the tune command prints with --json.
type tuneReport struct {
	Device  string    `json:"device"`
	Cache   string    `json:"cache,omitempty"` // the cache file written ("" when in memory only)
	Budget  string    `json:"budget"`
	Seconds float64   `json:"seconds"` // wall time of the tile search and the algorithm timing
	Note    string    `json:"note,omitempty"`
	Results []tuneRow `json:"results"`
	// Algorithms are the convolution passes timed both ways (conv_algo
	// auto, passes that admit Winograd), in plan order.
	Algorithms []algoRow `json:"algorithms,omitempty"`
}

// algoRow is one convolution pass's algorithm choice.
type algoRow struct {
	Layer      string  `json:"layer"`
	Pass       string  `json:"pass"`
	Algo       string  `json:"algo"`
	WinogradMs float64 `json:"winograd_ms"`
	GemmMs     float64 `json:"gemm_ms"`
	// Winograd4Ms is F(4x4,3x3)'s time, absent where the pass cannot run
	// as it.
	Winograd4Ms float64 `json:"winograd4_ms,omitempty"`
}

// tuneRow is one tuned target.
type tuneRow struct {
	Kernel    backend.Kernel     `json:"kernel"`
	Layer     string             `json:"layer"`
	Phase     string             `json:"phase"`
	Shape     string             `json:"shape"`
	Default   backend.TileConfig `json:"default"`
	Chosen    backend.TileConfig `json:"chosen"`
	DefaultMs float64            `json:"default_ms"`
	ChosenMs  float64            `json:"chosen_ms"`
	Speedup   float64            `json:"speedup"`
	Source    tune.Source        `json:"source"`
	Tried     int                `json:"tried"`
	Failed    int                `json:"failed"`
	Warning   string             `json:"warning,omitempty"`
}

func runTune(cmd *cobra.Command, budgetText string, asJSON bool) error {
	cfg, _, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	budget := cfg.Budget()
	if cmd.Flags().Changed(budgetFlag) {
		if budget, err = config.ParseTuneBudget(budgetText); err != nil {
			return fmt.Errorf("tune: --%s %q is invalid; allowed: %v", budgetFlag, budgetText, err)
		}
	}
	bar := newTermProgress(cmd.ErrOrStderr())
	if cfg.Quiet {
		bar = nil
	}
	log := newLogger(cmd.ErrOrStderr(), cfg.LogLevel, cfg.Quiet, bar)
	m, err := train.NewModel(cfg)
	if err != nil {
		return err
	}
	op, err := train.Open(cfg, m, log)
	if err != nil {
		return err
	}
	defer op.Close()
	rep := tuneReport{Device: train.DeviceName(op.Dev.Info()), Budget: budget.String(), Results: []tuneRow{}}
	tuner, ok := op.Dev.(backend.Tuner)
	if !ok {
		rep.Note = fmt.Sprintf("%s has no tile engine: nothing to tune (the gemm and convolution tilings are tuned on OpenCL and Vulkan devices)", rep.Device)
		return writeTune(cmd.OutOrStdout(), rep, asJSON)
	}
	targets, err := tune.Targets(op.Plan)
	if err != nil {
		return fmt.Errorf("tune: %w", err)
	}
	o := tune.Options{Budget: tune.TileBudget(op.Plan, budget), Log: log, Cache: train.TuneCache(log)}
	if o.Cache != nil {
		rep.Cache = o.Cache.Path(tuner.TuneIdentity())
	}
	o.Progress = tuneProgress(bar, log, len(targets))
	log.Info("tuning", "device", rep.Device, "targets", len(targets), "budget", budget, "cache", orMemory(rep.Cache))
	start := time.Now()
	results, err := tune.Tune(op.Dev, targets, o)
	if bar != nil {
		bar.EndEpoch()
	}
	if err != nil {
		return fmt.Errorf("tune: %s: %w", rep.Device, err)
	}
	algos, err := tune.ChooseAlgos(op.Dev, op.Plan, results, o)
	if err != nil {
		return fmt.Errorf("tune: %s: %w", rep.Device, err)
	}
	rep.Seconds = time.Since(start).Seconds()
	for _, a := range algos {
		rep.Algorithms = append(rep.Algorithms, algoRow{Layer: a.Layer, Pass: a.Pass, Algo: a.Algo, WinogradMs: a.WinogradMs, GemmMs: a.GemmMs,
			Winograd4Ms: a.Winograd4Ms})
	}
	for _, r := range results {
		rep.Results = append(rep.Results, tuneRow{Kernel: r.P.Kernel(), Layer: r.Layer, Phase: r.Phase, Shape: r.P.Shape(),
			Default: r.Default, Chosen: r.Chosen, DefaultMs: r.DefaultMs, ChosenMs: r.ChosenMs, Speedup: r.Speedup(),
			Source: r.Source, Tried: r.Tried, Failed: r.Failed, Warning: r.Warning})
	}
	return writeTune(cmd.OutOrStdout(), rep, asJSON)
}

// orMemory is path, or "none (in memory)" for "".
func orMemory(path string) string {
	if path == "" {
		return "none (in memory)"
	}
	return path
}

// tuneProgress is tune.Options.Progress for n targets: the progress bar on
// a terminal, else one log line per target.
func tuneProgress(bar *termProgress, log *slog.Logger, n int) func(done, total int, what string) {
	if bar != nil {
		bar.StartTune(n)
		return bar.TuneStep
	}
	return func(done, total int, what string) {
		log.Info("tuned", "target", fmt.Sprintf("%d/%d", done, total), "what", what)
	}
}

// writeTune prints rep as a table (or the note) and the cache file, or as
// JSON.
func writeTune(w io.Writer, rep tuneReport, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // shapes read "N8 C1 65x65 -> K6 15x15 ..."
		return enc.Encode(rep)
	}
	if rep.Note != "" {
		_, err := fmt.Fprintln(w, rep.Note)
		return err
	}
	fmt.Fprintf(w, "tuned on %s in %.1f s (budget %s)\n", rep.Device, rep.Seconds, rep.Budget)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KERNEL\tLAYER\tSHAPE\tDEFAULT\tCHOSEN\tDEFAULT MS\tCHOSEN MS\tSPEEDUP\tSOURCE")
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s\t%s\t%s\t%s\t%.2fx\t%s\n", r.Kernel, r.Layer, r.Phase, r.Shape, r.Default, sameOr(r.Chosen, r.Default),
			fmtMs(r.DefaultMs), fmtMs(r.ChosenMs), r.Speedup, r.Source)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Algorithms) > 0 {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CONVOLUTION\tPASS\tALGORITHM\tWINOGRAD MS\tGEMM MS\tWINOGRAD4 MS")
		for _, a := range rep.Algorithms {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Layer, a.Pass, a.Algo, fmtMs(a.WinogradMs), fmtMs(a.GemmMs), fmtMs(a.Winograd4Ms))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, r := range rep.Results {
		if r.Warning != "" {
			fmt.Fprintf(w, "warning: %s %s: %s\n", r.Kernel, r.Shape, r.Warning)
		}
	}
	note := ""
	if _, err := os.Stat(rep.Cache); rep.Cache != "" && err != nil {
		note = " (nothing stored: the budget ran out before any candidate besides the defaults was tried; give a larger --budget)"
	}
	_, err := fmt.Fprintf(w, "cache: %s%s\n", orMemory(rep.Cache), note)
	return err
}

// sameOr is c, or "(default)" when c is def.
func sameOr(c, def backend.TileConfig) string {
	if c == def {
		return "(default)"
	}
	return string(c)
}

// fmtMs is ms with three decimals, "-" when never timed.
func fmtMs(ms float64) string {
	if ms <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", ms)
}
