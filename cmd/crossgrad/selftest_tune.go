package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/train"
	"github.com/crossgrad/crossgrad/tune"
)

// tunedCheck is the outcome of checking one cached configuration.
type tunedCheck struct {
	kernel backend.Kernel
	shape  string
	config backend.TileConfig
	took   time.Duration
	err    error
}

// checkTuned checks on dev every configuration the tuning cache would make
// it use (tune.Cache.Load, then tune.Check of each entry) and writes the
// table to w: PASS or FAIL per entry, the entries the cache ignores (listed,
// not failures: dev never runs them) and a total line. It reports whether
// any check failed. Each check is named "kernel/tuned shape" for filter; a
// device without a tile engine gets no section, nor does a filter that
// neither a check's name nor any "kernel/tuned" of a tiled kernel contains.
func checkTuned(w io.Writer, dev backend.Device, filter string) (failed bool, err error) {
	t, ok := dev.(backend.Tuner)
	if !ok {
		return false, nil
	}
	rec := &recordWarnings{next: slog.Default().Handler(), saved: &warnings{}}
	cache := train.TuneCache(slog.New(rec))
	if cache == nil {
		_, err := fmt.Fprintln(w, "tuned configurations: no user cache folder, nothing cached to check")
		return false, err
	}
	file := cache.Path(t.TuneIdentity())
	entries, err := cache.Load(t)
	if err != nil {
		fmt.Fprintf(w, "tuned configurations: cannot read the tuning cache %s: %v\n", file, err)
		return true, nil
	}
	keys := make([]backend.TuneKey, 0, len(entries))
	for k := range entries {
		if strings.HasPrefix(string(k.Kernel), tune.AlgoPrefix) {
			continue // an algorithm choice, no configuration to check
		}
		if strings.Contains(string(k.Kernel)+"/tuned "+k.Shape, filter) {
			keys = append(keys, k)
		}
	}
	named := slices.ContainsFunc(backend.TiledKernels(), func(k backend.Kernel) bool { return strings.Contains(string(k)+"/tuned", filter) })
	if len(keys) == 0 && !named {
		return false, nil
	}
	slices.SortFunc(keys, func(a, b backend.TuneKey) int { return strings.Compare(a.String(), b.String()) })
	var checks []tunedCheck
	for _, k := range keys {
		e := entries[k]
		c := tunedCheck{kernel: e.Kernel, shape: e.Shape, config: e.Config}
		start := time.Now()
		p, derr := e.Dispatch()
		if derr != nil {
			c.err = derr
		} else {
			c.err = tune.Check(dev, p, e.Config)
		}
		c.took = time.Since(start)
		checks = append(checks, c)
	}
	return writeTunedChecks(w, file, filter, checks, rec.saved.lines())
}

// writeTunedChecks writes the tuned-configuration section of selftest and
// reports whether a check failed.
func writeTunedChecks(w io.Writer, file, filter string, checks []tunedCheck, ignored []string) (bool, error) {
	fmt.Fprintf(w, "tuned configurations (cache %s):\n", file)
	failed := 0
	if len(checks) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "kernel\tshape\tconfiguration\ttime\tresult")
		for _, c := range checks {
			verdict := "PASS"
			if c.err != nil {
				verdict = "FAIL"
				failed++
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.kernel, c.shape, c.config, c.took.Round(time.Millisecond), verdict)
		}
		if err := tw.Flush(); err != nil {
			return false, err
		}
	}
	for _, c := range checks {
		if c.err != nil {
			fmt.Fprintf(w, "FAIL %s/tuned %s %q: %v\n", c.kernel, c.shape, c.config, c.err)
		}
	}
	for _, l := range ignored {
		fmt.Fprintf(w, "IGNORED (not used): %s\n", l)
	}
	var err error
	switch {
	case failed > 0:
		_, err = fmt.Fprintf(w, "%d of %d tuned configurations failed (delete %s or run crossgrad tune again)\n", failed, len(checks), file)
	case len(checks) == 0 && filter != "":
		_, err = fmt.Fprintf(w, "no tuned configuration cached for this device matches --filter %q\n", filter)
	case len(checks) == 0:
		_, err = fmt.Fprintln(w, "no tuned configuration cached for this device")
	default:
		_, err = fmt.Fprintf(w, "all %d tuned configurations passed\n", len(checks))
	}
	return failed > 0, err
}

// recordWarnings is a slog.Handler keeping the warnings (and errors) it is
// given as "message key=value ..." lines in saved, and passing the other
// records on to next.
type recordWarnings struct {
	next  slog.Handler
	attrs []slog.Attr
	saved *warnings
}

// warnings are the lines a recordWarnings and its derived handlers kept.
type warnings struct {
	mu   sync.Mutex
	list []string
}

// Enabled implements slog.Handler.
func (h *recordWarnings) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.next.Enabled(ctx, l)
}

// Handle implements slog.Handler.
func (h *recordWarnings) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.next.WithAttrs(h.attrs).Handle(ctx, r)
	}
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%q", a.Key, a.Value.Resolve().String())
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	h.saved.mu.Lock()
	defer h.saved.mu.Unlock()
	h.saved.list = append(h.saved.list, b.String())
	return nil
}

// WithAttrs implements slog.Handler.
func (h *recordWarnings) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

// WithGroup implements slog.Handler (groups are flattened).
func (h *recordWarnings) WithGroup(string) slog.Handler { return h }

// lines are the warnings kept so far.
func (w *warnings) lines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.list...)
}
