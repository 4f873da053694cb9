package vulkan

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	vk "github.com/vulkan-go/vulkan"
)

// records is a slog.Handler keeping every record.
type records struct{ got []slog.Record }

func (r *records) Enabled(context.Context, slog.Level) bool { return true }

func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.got = append(r.got, rec)
	return nil
}

func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }

func (r *records) WithGroup(string) slog.Handler { return r }

func TestCacheLinesGoThroughSlog(t *testing.T) {
	rec := &records{}
	old := slog.Default()
	slog.SetDefault(slog.New(rec))
	defer slog.SetDefault(old)

	file := filepath.Join(t.TempDir(), "bad.pipelines")
	require.NoError(t, os.WriteFile(file, []byte("not a cache at all, but long enough to have a header"), 0o644))
	assert.Nil(t, loadCache(file, &vk.PhysicalDeviceProperties{}))
	require.Len(t, rec.got, 1)
	r := rec.got[0]
	assert.Equal(t, slog.LevelWarn, r.Level)
	assert.Equal(t, "vulkan: ignoring pipeline cache", r.Message)
	attrs := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	assert.Equal(t, map[string]string{"file": file, "reason": "not a crossgrad pipeline cache"}, attrs)
}
