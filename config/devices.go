package config

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/crossgrad/crossgrad/backend"
)

// DistributedModes are the accepted distributed values: off (this process
// trains alone), mpi (one rank of a run started by mpirun) and auto (mpi
// when an MPI launcher started the process, else off).
var DistributedModes = []string{"off", "mpi", "auto"}

// Replicas is the number of model replicas in this process: one per entry
// of devices, or one when devices is empty.
func (c Config) Replicas() int { return max(1, len(c.Devices)) }

// validateDevices checks devices, device_shares, distributed and
// checksum_every, and that the batch holds an image per replica.
func (c Config) validateDevices() []error {
	var errs []error
	if err := ValidateDevices(c.Devices); err != nil {
		errs = append(errs, err)
	}
	if len(c.DeviceShares) > 0 && len(c.DeviceShares) != c.Replicas() {
		errs = append(errs, fmt.Errorf("config: device_shares = %v has %d entries but devices lists %d devices; give one positive number per device of devices, in its order, or [] to balance the shares from measured step times",
			c.DeviceShares, len(c.DeviceShares), c.Replicas()))
	}
	for i, s := range c.DeviceShares {
		if !(s > 0) || math.IsInf(s, 0) {
			errs = append(errs, fmt.Errorf("config: device_shares entry %d = %v is invalid; allowed: positive numbers (weights of the devices' shares of the batch, e.g. [3, 1]), or [] to balance them from measured step times", i, s))
			break
		}
	}
	if !contains(DistributedModes, c.Distributed) {
		errs = append(errs, fmt.Errorf("config: distributed = %q is invalid; allowed: %s%s", c.Distributed, strings.Join(DistributedModes, ", "),
			didYouMean(c.Distributed, DistributedModes, func(s string) string { return s })))
	}
	if c.ChecksumEvery < 0 {
		errs = append(errs, fmt.Errorf("config: checksum_every = %d is invalid; allowed: >= 0 (0 = never)", c.ChecksumEvery))
	}
	if n := c.Replicas(); n > 1 && c.BatchSize >= 1 && c.BatchSize < n {
		errs = append(errs, BatchTooSmall(c.BatchSize, n, 1))
	}
	return errs
}

// BatchTooSmall is the error of a batch_size smaller than the replicas of
// a run: devices per rank times ranks.
func BatchTooSmall(batch, devices, ranks int) error {
	return fmt.Errorf("config: batch_size = %d is smaller than the %d replicas of the run (%d devices x %d ranks); every replica needs an image of each batch: raise batch_size to at least %d, or list fewer devices",
		batch, devices*ranks, devices, ranks, devices*ranks)
}

// ValidateDevices checks a devices list without asking any driver: each
// entry one device of a registered backend (backend or backend:selector,
// no keyword), none twice. The error names the key and says that
// crossgrad devices lists the devices.
func ValidateDevices(list []string) error {
	for i, e := range list {
		name, _, _ := strings.Cut(e, ":")
		if slices.Contains(backend.Keywords(), name) {
			return fmt.Errorf("config: devices entry %q selects several devices; name one device per entry, such as opencl:0 or vulkan:0 (crossgrad devices lists them), or set --device %s with devices empty", e, e)
		}
		if err := backend.CheckSelection(e); err != nil {
			return fmt.Errorf("config: devices entry %q: %v; name one device per entry as backend:index, of %s (crossgrad devices lists them)", e, err, strings.Join(backend.Names(), ", "))
		}
		if j := slices.Index(list, e); j < i {
			return fmt.Errorf("config: devices lists %s twice (entries %d and %d); list every device once (crossgrad devices lists them)", e, j, i)
		}
	}
	return nil
}

// ParseNumbers splits a comma-separated list of numbers, optionally in
// brackets ("[0.75, 0.25]").
func ParseNumbers(s string) ([]float64, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	var out []float64
	for i, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		f, err := toFloat(p)
		if err != nil {
			return nil, fmt.Errorf("list entry %d: %w", i, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// toNumbers accepts a YAML list of numbers or a comma-separated string.
func toNumbers(raw any) ([]float64, error) {
	switch x := raw.(type) {
	case string:
		return ParseNumbers(x)
	case []float64:
		return x, nil
	case []any:
		var out []float64
		for i, e := range x {
			f, err := toFloat(e)
			if err != nil {
				return nil, fmt.Errorf("list entry %d: %w", i, err)
			}
			out = append(out, f)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s is not a list of numbers or a comma-separated string", describe(raw))
}

// formatList is a list value as a flag's default text: comma-separated.
func formatList(v reflect.Value) string {
	parts := make([]string, v.Len())
	for i := range parts {
		switch e := v.Index(i).Interface().(type) {
		case float64:
			parts[i] = strconv.FormatFloat(e, 'g', -1, 64)
		default:
			parts[i] = fmt.Sprint(e)
		}
	}
	return strings.Join(parts, ",")
}
