package config

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Backends are the backend names a selection may start with.
var Backends = []string{"auto", "opencl", "vulkan", "ref"}

// DeviceKeywords are the selections that name a set of devices across
// backends and take no ":selector": auto and all (every device, best first)
// and gpu (every GPU, best first).
var DeviceKeywords = []string{"auto", "all", "gpu"}

// LogLevels are the accepted log_level values.
var LogLevels = []string{"debug", "info", "warn", "error"}

// Limits of the numeric keys.
const (
	MinInputSize = 65 // smallest side the seed AlexNet accepts (last pool needs 3x3)
	MaxInputSize = 1024
	MaxWidth     = 4.0
	MaxBatchSize = 65536
	MaxEpochs    = 100000
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
	if c.InputSize < MinInputSize || c.InputSize > MaxInputSize {
		bad("input_size", c.InputSize, fmt.Sprintf("%d..%d (the seed architecture's three 3x3/2 pools need at least %d)", MinInputSize, MaxInputSize, MinInputSize))
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
	return errors.Join(errs...)
}

// ValidateBackends checks a backend list: non-empty, each entry one of
// DeviceKeywords or one of Backends with an optional ":selector".
func ValidateBackends(list []string) error {
	allowed := "a comma-separated list (brackets allowed) of auto, all, gpu, opencl, vulkan or ref, each backend optionally with :index or :word (e.g. vulkan:0,opencl,ref or [vulkan:0, opencl, ref])"
	if len(list) == 0 {
		return fmt.Errorf("config: backend is empty; allowed: %s", allowed)
	}
	for _, e := range list {
		name, sel, hasSel := strings.Cut(e, ":")
		switch {
		case !contains(Backends, name) && !contains(DeviceKeywords, name):
			return fmt.Errorf("config: backend entry %q: unknown backend %q; allowed: %s", e, name, allowed)
		case contains(DeviceKeywords, name) && hasSel:
			return fmt.Errorf("config: backend entry %q: %s takes no selector; allowed: %s", e, name, allowed)
		case hasSel && sel == "":
			return fmt.Errorf("config: backend entry %q: empty selector after ':'; allowed: %s", e, allowed)
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
