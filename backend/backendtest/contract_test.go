package backendtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
)

func TestDriverAbsentOnlyForErrNoDriver(t *testing.T) {
	t.Setenv("CI", "")
	assert.False(t, driverAbsent(nil))
	assert.False(t, driverAbsent(errors.New("opencl: build program: syntax error")))
	assert.False(t, driverAbsent(errors.New("opencl: clGetPlatformIDs: -1001 (no OpenCL platform; install ocl-icd-libopencl1)")),
		"words in a message are no evidence")
	assert.False(t, driverAbsent(fmt.Errorf("opencl: %w", os.ErrNotExist)))
	absent := fmt.Errorf("vulkan: open: %w", backend.WithKind(backend.ErrNoDriver, errors.New("cannot open shared object file")))
	assert.True(t, driverAbsent(absent))
	t.Setenv("CI", "true")
	assert.False(t, driverAbsent(absent), "CI machines have the drivers: fail instead of skipping")
}

func TestOpenOrSkipSkipsWithoutDriver(t *testing.T) {
	t.Setenv("CI", "")
	var inner *testing.T
	t.Run("open", func(t *testing.T) {
		inner = t
		OpenOrSkip(t, func() (backend.Device, error) {
			return nil, fmt.Errorf("backend: %w", backend.WithKind(backend.ErrNoDriver, errors.New("no ICD")))
		})
		t.Error("OpenOrSkip returned without a device")
	})
	assert.True(t, inner.Skipped())
}

// leakyLost is a reference device whose driver "loses" it: Sync then fails
// with backend.ErrDeviceLost, but nothing else does, as a backend without
// sticky loss behaves.
type leakyLost struct {
	*ref.Device
	lost bool
}

func (d *leakyLost) Sync() error {
	if d.lost {
		d.lost = false
		return fmt.Errorf("fake: %w", backend.ErrDeviceLost)
	}
	return d.Device.Sync()
}

// TestContractCatchesNonStickyLoss runs the lost check, in a child process,
// on a device whose loss is not sticky: the check must fail there, naming
// the calls that went on working.
func TestContractCatchesNonStickyLoss(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		dev := &leakyLost{Device: ref.New()}
		defer dev.Close()
		checkLost(t, dev, func(backend.Device) func() { dev.lost = true; return func() {} })
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestContractCatchesNonStickyLoss$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the child passed:\n%s", out)
	assert.Contains(t, string(out), "--- FAIL: TestContractCatchesNonStickyLoss")
	assert.Contains(t, string(out), `Expected error with "device lost" in chain but got nil`)
	assert.Regexp(t, `Messages:\s+alloc\n`, string(out), "the call that still worked is named")
}

// childEnv makes a test run as the child of itself.
const childEnv = "BACKENDTEST_CHILD"
