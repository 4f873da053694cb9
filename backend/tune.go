package backend

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// TileConfig is one configuration of a backend's tile engine (the tiled
// kernels: gemm and the three convolutions), as text in the form
// "name=value name=value ..." with integer values, in the backend's own
// order, e.g. "mwg=64 nwg=64 kwg=32 mdimc=8 ndimc=2 vw=16 lvw=16". Only the
// backend that made a configuration gives it meaning; the tuner reads it
// only as named integers (ParseTile) to find neighbouring configurations.
type TileConfig string

// TileParam is one name=value pair of a TileConfig.
type TileParam struct {
	Name  string
	Value int
}

// ParseTile splits c into its name=value pairs, in order. An empty c has
// none. An element that is not name=value with an integer value, or a name
// given twice, is an error naming it.
func ParseTile(c TileConfig) ([]TileParam, error) {
	var out []TileParam
	for _, f := range strings.Fields(string(c)) {
		name, val, ok := strings.Cut(f, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("tile configuration %q: %q is not name=value", c, f)
		}
		v, err := strconv.Atoi(val)
		if err != nil {
			return nil, fmt.Errorf("tile configuration %q: %s=%q is not an integer", c, name, val)
		}
		if slices.ContainsFunc(out, func(p TileParam) bool { return p.Name == name }) {
			return nil, fmt.Errorf("tile configuration %q: %s given twice", c, name)
		}
		out = append(out, TileParam{name, v})
	}
	return out, nil
}

// FormatTile is the TileConfig of ps, in their order.
func FormatTile(ps ...TileParam) TileConfig {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Name + "=" + strconv.Itoa(p.Value)
	}
	return TileConfig(strings.Join(parts, " "))
}

// TiledKernels are the kernels whose dispatches a Tuner configures, in
// kernel-list order.
func TiledKernels() []Kernel { return []Kernel{KConv2DFwd, KConv2DBwdData, KConv2DBwdFilter, KGemm} }

// WinogradTransforms are the Winograd transform kernels, in kernel-list
// order. A tuning cache's algorithm choices (Winograd against implicit GEMM)
// were timed with them, so the tuners hash their sources into
// TuneIdentity.Sources beside the tiled kernels'.
func WinogradTransforms() []Kernel {
	return []Kernel{KWinogradInput, KWinogradFilter, KWinogradOutput, KWinogradDy, KWinogradDw}
}

// IsTiled reports whether k is one of TiledKernels.
func IsTiled(k Kernel) bool { return slices.Contains(TiledKernels(), k) }

// TuneKey names the dispatches one tuned configuration applies to: those
// of one kernel at one shape (Params.Shape).
type TuneKey struct {
	Kernel Kernel
	Shape  string
}

// KeyOf is the TuneKey of dispatch p.
func KeyOf(p Params) TuneKey { return TuneKey{Kernel: p.Kernel(), Shape: p.Shape()} }

// String is "kernel shape".
func (k TuneKey) String() string { return string(k.Kernel) + " " + k.Shape }

// TuneIdentity says what a tuned configuration is valid for: a cached one
// made under another identity must not be used.
type TuneIdentity struct {
	Backend string // registered backend name
	Vendor  string
	Device  string // the driver's device name
	Driver  string // driver version
	Sources string // hash of the tiled kernels' sources (OpenCL C or SPIR-V)
	Limits  string // the device limits the candidates depend on, as text
}

// Tuner is an optional Device ability of the backends with a tile engine:
// the configurations it can run each tiled dispatch with, and a table of
// chosen ones that Dispatch follows. Params whose kernel is not tiled are a
// programmer error (panic) in every method but TuneIdentity.
type Tuner interface {
	// TuneIdentity identifies the device, driver and kernel sources.
	TuneIdentity() TuneIdentity
	// DefaultTile is the configuration Dispatch runs p with when no tile is
	// set for KeyOf(p): exactly the dispatches of an untuned device.
	DefaultTile(p Params) TileConfig
	// TileCandidates lists the configurations the device admits for p
	// (work-group size, local memory, buffer range), without duplicates,
	// DefaultTile(p) first, the rest best-first by the backend's own cost
	// estimate.
	TileCandidates(p Params) []TileConfig
	// CheckTile reports why the device cannot run p with c (unparsable, a
	// configuration of another backend, beyond the device's limits), or
	// why c, though it runs, would waste the device at p's shape (a
	// backend's measured refusals, e.g. mostly padding), or nil.
	CheckTile(p Params, c TileConfig) error
	// DispatchTile is Dispatch with configuration c instead of the table's:
	// an error when c cannot run (CheckTile's, less the waste refusals, so
	// that a configuration chosen for a large shape can be checked on small
	// cases), else Dispatch's.
	DispatchTile(c TileConfig, p Params, bufs ...Buffer) error
	// SetTile makes later dispatches with KeyOf(p) run configuration c; an
	// empty c restores DefaultTile. It returns an error when c cannot run
	// (as DispatchTile) and then changes nothing.
	SetTile(p Params, c TileConfig) error
}

// tileForced is a device whose tiled dispatches run one configuration.
type tileForced struct {
	Device
	t Tuner
	c TileConfig
}

// WithTile returns dev with every tiled dispatch run as DispatchTile(c, ...)
// (tests and the tuner run the conformance cases of one configuration
// through it). dev must be a Tuner; closing the result closes dev.
func WithTile(dev Device, c TileConfig) Device {
	t, ok := dev.(Tuner)
	if !ok {
		panic(fmt.Sprintf("backend.WithTile: %T is not a Tuner", dev))
	}
	return tileForced{Device: dev, t: t, c: c}
}

// Dispatch runs tiled kernels with the forced configuration.
func (f tileForced) Dispatch(p Params, bufs ...Buffer) error {
	if IsTiled(p.Kernel()) {
		return f.t.DispatchTile(f.c, p, bufs...)
	}
	return f.Device.Dispatch(p, bufs...)
}

// KernelTimes forwards to the device's timers (an error when it has none).
func (f tileForced) KernelTimes() (map[Kernel]KernelTime, error) {
	kt, ok := f.Device.(KernelTimer)
	if !ok {
		return nil, fmt.Errorf("%T has no kernel timers: %w", f.Device, ErrUnsupported)
	}
	return kt.KernelTimes()
}
