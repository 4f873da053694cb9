package train

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallBackend has one reference device that claims 1 MiB of memory, too
// little for any plan.
type smallBackend struct{}

func smallInfo() backend.Info {
	return backend.Info{Backend: "smallmem", Name: "small device", Type: backend.CPUDevice, GlobalMemory: 1 << 20, MaxAlloc: 1 << 20}
}

func (smallBackend) Devices() ([]backend.Info, error) { return []backend.Info{smallInfo()}, nil }

func (smallBackend) Open(int) (backend.Device, error) {
	info := smallInfo()
	return &testutil.FakeDevice{Device: ref.New(), Reported: &info}, nil
}

func init() { backend.Register("smallmem", 5, smallBackend{}) }

func TestFallbackWhenThePlanDoesNotFit(t *testing.T) {
	// Open directly: the configuration only admits the real backend names.
	c := tinyConfig(t)
	c.Backend = []string{"smallmem", "ref"}
	m, err := NewModel(c)
	require.NoError(t, err)
	var logBuf bytes.Buffer
	op, err := Open(c, m, slog.New(slog.NewTextHandler(&logBuf, nil)))
	require.NoError(t, err)
	assert.Equal(t, "pure-Go reference (ref:0)", DeviceName(op.Dev.Info()))
	require.NoError(t, op.Close())
	assert.Contains(t, logBuf.String(), `device small device (smallmem:0) of backend \"smallmem\" skipped`)
	assert.Contains(t, logBuf.String(), "batch size") // graph's reason says what would fit
	assert.Contains(t, logBuf.String(), "using fallback device")

	c.Backend = []string{"smallmem"}
	_, err = Open(c, m, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "small device (smallmem:0)")
}
