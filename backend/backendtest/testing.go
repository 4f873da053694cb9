package backendtest

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// RunTest is the one-line conformance test of a backend: it opens a device
// with open (OpenOrSkip), runs every check of the suite as a subtest named
// kernel/case (so `go test -run 'Conformance/gemm/'` selects), asserting with
// testify and showing the worst element of a failing case, closes the device
// and runs CheckRelease. With `go test -short` the Large cases are skipped.
func RunTest(t *testing.T, open func() (backend.Device, error)) {
	t.Helper()
	dev := OpenOrSkip(t, open)
	r := NewRunner(dev)
	defer func() {
		_ = r.Close()
		assert.NoError(t, dev.Close(), "close device")
	}()
	t.Logf("device: %s", dev.Info())
	for _, k := range backend.Kernels() {
		t.Run(string(k), func(t *testing.T) {
			for _, c := range CasesOf(k) {
				t.Run(c.Name, func(t *testing.T) {
					if c.Large && testing.Short() {
						t.Skip("large case skipped in -short mode")
					}
					assertResult(t, r.RunCase(c))
				})
			}
			t.Run(BadInputsName, func(t *testing.T) { assertResult(t, r.BadInputs(k)) })
		})
	}
	t.Run(string(IOKernel)+"/"+IOName, func(t *testing.T) { assertResult(t, r.CheckIO()) })
	t.Run("release", func(t *testing.T) { require.NoError(t, CheckRelease(open)) })
}

func assertResult(t *testing.T, res Result) {
	t.Helper()
	require.NoError(t, res.Err, "%s", res.Name())
	if !assert.True(t, res.Pass, "%s: %s", res.Name(), res.Detail()) {
		return
	}
	if res.Elements > 0 {
		t.Logf("max |err| %.3g over %d elements (tolerance %g + %g*|ref|), %v",
			res.MaxAbsErr, res.Elements, res.Tol.Atol, res.Tol.Rtol, res.Duration)
	}
}

// NoDriver reports whether err says the backend cannot run on this machine
// at all (its loader, driver or any device is absent), as opposed to a
// device that exists but fails. A backend marks such errors by wrapping
// backend-independent evidence: an error with a method `NoDriver() bool`
// returning true anywhere in the chain, os.ErrNotExist, or one of the
// loaders' own messages (no OpenCL platform, CL_PLATFORM_NOT_FOUND_KHR
// (-1001), a missing libOpenCL/libvulkan shared object,
// VK_ERROR_INCOMPATIBLE_DRIVER, no physical device).
func NoDriver(err error) bool {
	if err == nil {
		return false
	}
	var marked interface{ NoDriver() bool }
	if errors.As(err, &marked) && marked.NoDriver() {
		return true
	}
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	msg := strings.ToLower(err.Error())
	for _, s := range []string{
		"no opencl platform", "platform not found", "-1001", "cannot open shared object",
		"libopencl", "libvulkan", "vk_error_incompatible_driver", "incompatible driver",
		"no physical device", "no vulkan device", "no opencl device", "no devices",
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// OpenOrSkip opens a device with open. When that fails because the driver
// is absent (NoDriver) the test is skipped, unless the environment variable
// CI is "true": CI machines have the drivers, so there it fails with the
// error, as it does for every other open failure.
func OpenOrSkip(t *testing.T, open func() (backend.Device, error)) backend.Device {
	t.Helper()
	var dev backend.Device
	err := safely(func() error {
		var err error
		dev, err = open()
		return err
	})
	if err == nil && dev == nil {
		err = errors.New("open returned neither a device nor an error")
	}
	if err != nil {
		if NoDriver(err) && os.Getenv("CI") != "true" {
			t.Skipf("no driver for this backend here (set CI=true to fail instead): %v", err)
		}
		require.NoError(t, err, "open device")
	}
	return dev
}
