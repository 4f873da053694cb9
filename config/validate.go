package config

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/crossgrad/crossgrad/backend"
)

// LogLevels are the accepted log_level values.
var LogLevels = []string{"debug", "info", "warn", "error"}

// TuneModes are the accepted tune values, as package tune's modes
// (tune.ParseMode accepts exactly these).
var TuneModes = []string{"off", "cached", "auto"}

// ConvAlgos are the accepted conv_algo values (graph.ParseConvAlgo accepts
// exactly these, and "" as auto).
var ConvAlgos = []string{"auto", "gemm", "winograd"}

// Limits of the numeric keys.
const (
	MinInputSize = 1 // generic bound; each model validates its own minimum
	MaxInputSize = 1024
	MaxWidth     = 4.0
	MaxBatchSize = 65536
	MaxEpochs    = 100000
	// MaxTuneBudget bounds tune_budget.
	MaxTuneBudget = 24 * time.Hour
)

// Validate checks every key and returns all problems joined, each naming the
// key, the value and what is allowed.
func (c Config) Validate() error {
	var errs []error
	bad := func(key string, val any, allowed string) {
		errs = append(errs, fmt.Errorf("config: %s = %v is invalid; allowed: %s", key, val, allowed))
	}
	if err := ValidateBackends(c.Backend); err != nil {
		errs = append(errs, err)
	}
	if c.Model == "" {
		bad("model", `""`, "a registered model name, e.g. alexnet (crossgrad summary --model NAME lists the known ones for an unknown NAME)")
	}
	if c.InputSize < MinInputSize || c.InputSize > MaxInputSize {
		bad("input_size", c.InputSize, fmt.Sprintf("%d..%d (and at least the model's minimum)", MinInputSize, MaxInputSize))
	}
	if !(c.Width > 0 && c.Width <= MaxWidth) {
		bad("width", c.Width, fmt.Sprintf("0 < width <= %g", MaxWidth))
	}
	if c.BatchSize < 1 || c.BatchSize > MaxBatchSize {
		bad("batch_size", c.BatchSize, fmt.Sprintf("1..%d", MaxBatchSize))
	}
	if c.Epochs < 1 || c.Epochs > MaxEpochs {
		bad("epochs", c.Epochs, fmt.Sprintf("1..%d", MaxEpochs))
	}
	if !(c.LR > 0 && c.LR <= 1) {
		bad("lr", c.LR, "0 < lr <= 1")
	}
	for _, b := range []struct {
		key string
		v   float64
	}{{"adam_beta1", c.AdamBeta1}, {"adam_beta2", c.AdamBeta2}} {
		if !(b.v >= 0 && b.v < 1) {
			bad(b.key, b.v, "0 <= beta < 1")
		}
	}
	if !(c.AdamEps > 0 && c.AdamEps <= 1) {
		bad("adam_eps", c.AdamEps, "0 < eps <= 1")
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		bad("dropout", c.Dropout, "0 <= dropout < 1")
	}
	if c.Seed < 0 {
		bad("seed", c.Seed, fmt.Sprintf("0..%d", int64(math.MaxInt64)))
	}
	if c.DataDir == "" {
		bad("data_dir", `""`, "a folder with the IDX files, e.g. /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist)")
	}
	if c.TrainLimit < 0 {
		bad("train_limit", c.TrainLimit, ">= 0 (0 = all)")
	}
	if c.TestLimit < 0 {
		bad("test_limit", c.TestLimit, ">= 0 (0 = all)")
	}
	if c.CheckpointEverySteps < 0 {
		bad("checkpoint_every_steps", c.CheckpointEverySteps, ">= 0 (0 = only at epoch ends)")
	}
	if !(c.CheckpointEveryMinutes >= 0 && c.CheckpointEveryMinutes <= 1e6) {
		bad("checkpoint_every_minutes", c.CheckpointEveryMinutes, "0..1e6 (0 = off)")
	}
	if c.KeepCheckpoints < -1 {
		bad("keep_checkpoints", c.KeepCheckpoints, ">= -1 (mid-epoch checkpoints kept besides every epoch end; -1 = all)")
	}
	if !contains(LogLevels, c.LogLevel) {
		bad("log_level", fmt.Sprintf("%q", c.LogLevel), strings.Join(LogLevels, ", "))
	}
	if !contains(TuneModes, c.Tune) {
		bad("tune", fmt.Sprintf("%q", c.Tune), strings.Join(TuneModes, ", ")+didYouMean(c.Tune, TuneModes, func(s string) string { return s }))
	}
	if !contains(ConvAlgos, c.ConvAlgo) {
		bad("conv_algo", fmt.Sprintf("%q", c.ConvAlgo), strings.Join(ConvAlgos, ", ")+didYouMean(c.ConvAlgo, ConvAlgos, func(s string) string { return s }))
	}
	if _, err := ParseTuneBudget(c.TuneBudget); err != nil {
		bad("tune_budget", fmt.Sprintf("%q", c.TuneBudget), err.Error())
	}
	errs = append(errs, c.validateDevices()...)
	return errors.Join(errs...)
}

// ParseTuneBudget reads a tune_budget value: a Go duration (60s, 2m,
// 1m30s) above 0 and at most MaxTuneBudget. The error says what is allowed.
func ParseTuneBudget(s string) (time.Duration, error) {
	allowed := errors.New("a duration with a unit, above 0 and at most 24h, e.g. 60s, 2m or 1m30s")
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 || d > MaxTuneBudget {
		return 0, allowed
	}
	return d, nil
}

// Budget is tune_budget as a duration; a value Validate refuses gives 0.
func (c Config) Budget() time.Duration {
	d, _ := ParseTuneBudget(c.TuneBudget)
	return d
}

// ValidateBackends checks a backend list: non-empty, each entry one of
// backend.Keywords() or the name of a registered backend (backend.Names())
// with an optional ":selector".
func ValidateBackends(list []string) error {
	names := append(backend.Keywords(), backend.Names()...)
	allowed := fmt.Sprintf("a comma-separated list (brackets allowed) of %s or %s, each backend optionally with :index or :word (e.g. vulkan:0,opencl,ref or [vulkan:0, opencl, ref])",
		strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
	if len(list) == 0 {
		return fmt.Errorf("config: backend is empty; allowed: %s", allowed)
	}
	for _, e := range list {
		if err := backend.CheckSelection(e); err != nil {
			return fmt.Errorf("config: backend entry %q: %v; allowed: %s", e, err, allowed)
		}
	}
	return nil
}

// ParseBackends splits a comma-separated backend list, optionally in
// brackets as YAML writes it ("[vulkan:0, opencl]"), trimming spaces and
// quotes and lower-casing entries.
func ParseBackends(s string) []string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.ToLower(strings.Trim(strings.TrimSpace(p), `"'`)); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
