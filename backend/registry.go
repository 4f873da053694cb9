package backend

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Backend is what a backend package registers from its init function.
type Backend interface {
	// Devices lists the devices this backend can open, with Index set to the
	// value Open takes. An error means the backend cannot run here at all
	// (no driver); its message names the package to install.
	Devices() ([]Info, error)
	// Open opens device index of Devices().
	Open(index int) (Device, error)
}

var (
	regMu    sync.Mutex
	registry = map[string]Backend{}
	order    []string
)

// Register makes a backend available under name ("opencl", "vulkan", "ref").
// It panics when name is registered twice (a programmer error).
func Register(name string, b Backend) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("backend: Register called twice for " + name)
	}
	registry[name] = b
	order = append(order, name)
}

// Names lists the registered backends in registration order.
func Names() []string {
	regMu.Lock()
	defer regMu.Unlock()
	return append([]string(nil), order...)
}

func lookup(name string) (Backend, bool) {
	regMu.Lock()
	defer regMu.Unlock()
	b, ok := registry[name]
	return b, ok
}

// Found is one backend's answer to enumeration: its devices, or why it has
// none.
type Found struct {
	Backend string
	Devices []Info
	Err     error
}

// Enumerate asks every registered backend for its devices.
func Enumerate() []Found {
	var out []Found
	for _, name := range Names() {
		b, _ := lookup(name)
		devs, err := b.Devices()
		out = append(out, Found{Backend: name, Devices: devs, Err: err})
	}
	return out
}

// backendPreference breaks ties between devices of the same type in auto
// selection: on CPUs PoCL's OpenCL is much faster than lavapipe.
var backendPreference = map[string]int{"opencl": 0, "vulkan": 1, "ref": 9}

// Select resolves a selection string to the devices it may open, best first:
//
//	auto, all     every device, discrete GPU > integrated GPU > CPU > ref
//	gpu           every GPU of every backend
//	opencl        the devices of one backend
//	opencl:1      device 1 of a backend
//	vulkan:nvidia a backend's devices whose vendor, name or type contains the word
//
// The error lists what exists when nothing matches.
func Select(spec string) ([]Info, error) {
	spec = strings.TrimSpace(strings.ToLower(spec))
	if spec == "" {
		spec = "auto"
	}
	name, sel, hasSel := strings.Cut(spec, ":")
	var found []Found
	switch name {
	case "auto", "all", "gpu":
		if hasSel {
			return nil, fmt.Errorf("device %q: %s takes no selector; %s", spec, name, describe(Enumerate()))
		}
		found = Enumerate()
	default:
		b, ok := lookup(name)
		if !ok {
			return nil, fmt.Errorf("device %q: unknown backend %q; registered backends: %s (or auto, all, gpu)", spec, name, strings.Join(Names(), ", "))
		}
		devs, err := b.Devices()
		if err != nil {
			return nil, fmt.Errorf("device %q: %w", spec, err)
		}
		found = []Found{{Backend: name, Devices: devs}}
	}
	var cands []Info
	for _, f := range found {
		for _, d := range f.Devices {
			if name == "gpu" && !isGPU(d) {
				continue
			}
			if matches(d, sel, hasSel) {
				cands = append(cands, d)
			}
		}
	}
	if len(cands) == 0 {
		what := "no such device"
		if name == "gpu" {
			what = "no GPU found by any backend"
		}
		return nil, fmt.Errorf("device %q: %s; %s", spec, what, describe(Enumerate()))
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].Type != cands[j].Type {
			return cands[i].Type < cands[j].Type
		}
		return backendPreference[cands[i].Backend] < backendPreference[cands[j].Backend]
	})
	return cands, nil
}

func isGPU(d Info) bool { return d.Type == DiscreteGPU || d.Type == IntegratedGPU }

func matches(d Info, sel string, hasSel bool) bool {
	if !hasSel || sel == "" {
		return true
	}
	if n, err := strconv.Atoi(sel); err == nil {
		return d.Index == n
	}
	for _, s := range []string{d.Vendor, strings.ToLower(d.Name), d.Type.String()} {
		if strings.Contains(s, sel) {
			return true
		}
	}
	return sel == "gpu" && isGPU(d)
}

// describe lists every device found and every backend's failure reason.
func describe(found []Found) string {
	var parts []string
	for _, f := range found {
		if f.Err != nil {
			parts = append(parts, fmt.Sprintf("%s: unavailable (%v)", f.Backend, f.Err))
			continue
		}
		for _, d := range f.Devices {
			parts = append(parts, fmt.Sprintf("%s = %s", d.ID(), d.Name))
		}
		if len(f.Devices) == 0 {
			parts = append(parts, f.Backend+": no devices")
		}
	}
	return "available: " + strings.Join(parts, "; ")
}

// Open opens the best device matching spec (see Select). When a candidate
// fails to open, the next is tried; the error lists every failure.
func Open(spec string) (Device, error) {
	cands, err := Select(spec)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, c := range cands {
		b, _ := lookup(c.Backend)
		d, err := b.Open(c.Index)
		if err == nil {
			return d, nil
		}
		errs = append(errs, fmt.Errorf("%s (%s): %w", c.ID(), c.Name, err))
	}
	return nil, fmt.Errorf("device %q: no candidate opened: %w", spec, errors.Join(errs...))
}
