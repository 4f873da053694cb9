package backend

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Backend is what a backend package registers from its init function.
type Backend interface {
	// Devices lists the devices this backend can open, with Index set to the
	// value Open takes. An error wrapping ErrNoDriver means the backend
	// cannot run here at all; its message names the package to install.
	Devices() ([]Info, error)
	// Open opens device index of Devices().
	Open(index int) (Device, error)
}

// registered is one backend of the registry.
type registered struct {
	name    string
	rank    int
	backend Backend
}

var (
	regMu    sync.Mutex
	registry []registered // by rank, then registration order
)

// Register makes a backend available under name ("opencl", "vulkan", "ref").
// rank breaks ties between devices of the same type in auto selection, lower
// first (on CPUs PoCL's OpenCL, rank 0, is much faster than lavapipe's
// Vulkan, rank 1; the reference backend has rank 9). It panics when name is
// registered twice or is a keyword (a programmer error).
func Register(name string, rank int, b Backend) {
	regMu.Lock()
	defer regMu.Unlock()
	if slices.Contains(Keywords(), name) || name == "" || strings.ContainsAny(name, ":, ") {
		panic(fmt.Sprintf("backend: Register called with the invalid name %q", name))
	}
	if slices.ContainsFunc(registry, func(r registered) bool { return r.name == name }) {
		panic("backend: Register called twice for " + name)
	}
	i := 0
	for i < len(registry) && registry[i].rank <= rank {
		i++
	}
	registry = slices.Insert(registry, i, registered{name: name, rank: rank, backend: b})
}

// Names lists the registered backends, best ranked first.
func Names() []string {
	regMu.Lock()
	defer regMu.Unlock()
	out := make([]string, len(registry))
	for i, r := range registry {
		out[i] = r.name
	}
	return out
}

// Keywords are the selections that name devices across every backend and
// take no ":selector": auto and all (every device, best first) and gpu
// (every GPU, best first).
func Keywords() []string { return []string{"auto", "all", "gpu"} }

func lookup(name string) (registered, bool) {
	regMu.Lock()
	defer regMu.Unlock()
	for _, r := range registry {
		if r.name == name {
			return r, true
		}
	}
	return registered{}, false
}

// CheckSelection checks one selection against the registry without asking
// any driver: a keyword without selector, or the name of a registered
// backend with an optional non-empty ":index" or ":word". The caller adds
// what is allowed to the error.
func CheckSelection(spec string) error {
	name, sel, hasSel := strings.Cut(spec, ":")
	_, known := lookup(name)
	switch {
	case slices.Contains(Keywords(), name):
		if hasSel {
			return fmt.Errorf("%s takes no selector", name)
		}
	case !known:
		return fmt.Errorf("unknown backend %q", name)
	case hasSel && sel == "":
		return errors.New("empty selector after ':'")
	}
	return nil
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
		r, _ := lookup(name)
		devs, err := r.backend.Devices()
		out = append(out, Found{Backend: name, Devices: devs, Err: err})
	}
	return out
}

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
	switch {
	case slices.Contains(Keywords(), name):
		if hasSel {
			return nil, fmt.Errorf("device %q: %s takes no selector; %s", spec, name, describe(Enumerate()))
		}
		found = Enumerate()
	default:
		r, ok := lookup(name)
		if !ok {
			return nil, fmt.Errorf("device %q: %w; registered backends: %s (or %s)", spec, CheckSelection(name), strings.Join(Names(), ", "), strings.Join(Keywords(), ", "))
		}
		devs, err := r.backend.Devices()
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
		return rankOf(cands[i].Backend) < rankOf(cands[j].Backend)
	})
	return cands, nil
}

func rankOf(name string) int {
	r, _ := lookup(name)
	return r.rank
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
		r, _ := lookup(c.Backend)
		d, err := r.backend.Open(c.Index)
		if err == nil {
			return d, nil
		}
		errs = append(errs, fmt.Errorf("%s (%s): %w", c.ID(), c.Name, err))
	}
	return nil, fmt.Errorf("device %q: no candidate opened: %w", spec, errors.Join(errs...))
}
