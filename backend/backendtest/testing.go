package backendtest

import (
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// RunTest is the one-line conformance test of a backend: it opens a device
// with open (OpenOrSkip), runs every check of the suite as a subtest named
// kernel/case (so `go test -run 'Conformance/gemm/'` selects) and
// CheckDropoutShift, asserting with testify and showing the worst element of
// a failing case, closes the device and runs CheckRelease. With `go test -short` the Large cases are skipped.
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
	t.Run(DropoutShiftName, func(t *testing.T) { require.NoError(t, CheckDropoutShift(dev)) })
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

// OpenOrSkip opens a device with open. When that fails because the driver
// is absent (the error wraps backend.ErrNoDriver) the test is skipped, unless
// the environment variable CI is "true": CI machines have the drivers, so
// there it fails with the error, as it does for every other open failure.
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
		if driverAbsent(err) {
			t.Skipf("no driver for this backend here (set CI=true to fail instead): %v", err)
		}
		require.NoError(t, err, "open device")
	}
	return dev
}

// driverAbsent reports whether OpenOrSkip skips on err: the backend's driver
// is absent (backend.ErrNoDriver) and CI is not "true".
func driverAbsent(err error) bool {
	return errors.Is(err, backend.ErrNoDriver) && os.Getenv("CI") != "true"
}
