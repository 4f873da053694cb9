package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// lineHandler is a slog.Handler writing "level: message key=value ..." lines
// for people, clearing the progress bar (when any) first.
type lineHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	level slog.Level
	bar   *termProgress // may be nil
	attrs []slog.Attr
}

// newLogger returns a logger writing to w at level ("debug", "info",
// "warn", "error"); quiet raises the level to errors only. It also becomes
// slog's default logger (and through it the log package's), so that what
// packages log on their own, such as the Vulkan pipeline cache, has the same
// format as every other line.
func newLogger(w io.Writer, level string, quiet bool, bar *termProgress) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	if quiet {
		l = slog.LevelError
	}
	log := slog.New(&lineHandler{mu: &sync.Mutex{}, w: w, level: l, bar: bar})
	slog.SetDefault(log)
	return log
}

// Enabled implements slog.Handler.
func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

// Handle implements slog.Handler.
func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(strings.ToLower(r.Level.String()))
	b.WriteString(": ")
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		v := a.Value.Resolve().String()
		if strings.ContainsAny(v, " \t\n\"=") {
			v = fmt.Sprintf("%q", v)
		}
		fmt.Fprintf(&b, " %s=%s", a.Key, v)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.bar != nil {
		h.bar.Clear()
	}
	_, err := io.WriteString(h.w, b.String())
	return err
}

// WithAttrs implements slog.Handler.
func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

// WithGroup implements slog.Handler (groups are flattened).
func (h *lineHandler) WithGroup(string) slog.Handler { return h }
