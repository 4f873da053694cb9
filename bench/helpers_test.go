package bench

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/config"
)

// tinyConfig is the seed architecture at input 65 and width 1/16 (conv
// channels 6..24, fc 256): a training step takes milliseconds on ref.
func tinyConfig() config.Config {
	c := config.Default()
	c.InputSize, c.Width, c.BatchSize = 65, 1.0/16, 3
	return c
}

// fakeName is the backend the tests register: device 0 never opens,
// device 1 is a reference device whose conv2d_bwd_filter always fails.
const fakeName = "benchfake"

func init() { backend.Register(fakeName, 5, fakeBackend{}) }

type fakeBackend struct{}

func (fakeBackend) Devices() ([]backend.Info, error) {
	return []backend.Info{
		{Backend: fakeName, Index: 0, Name: "broken card", Type: backend.CPUDevice, Vendor: "fake"},
		{Backend: fakeName, Index: 1, Name: "flaky card", Type: backend.CPUDevice, Vendor: "fake"},
	}, nil
}

func (fakeBackend) Open(index int) (backend.Device, error) {
	if index == 0 {
		return nil, errors.New("fake: no such card in this slot")
	}
	info, _ := fakeBackend{}.Devices()
	return &flakyDevice{Device: ref.New(), info: info[1], fail: backend.KConv2DBwdFilter}, nil
}

// flakyDevice is a reference device reporting info and failing every
// dispatch of kernel fail.
type flakyDevice struct {
	*ref.Device
	info backend.Info
	fail backend.Kernel
}

func (d *flakyDevice) Info() backend.Info { return d.info }

func (d *flakyDevice) Dispatch(p backend.Params, bufs ...backend.Buffer) error {
	if p.Kernel() == d.fail {
		return fmt.Errorf("fake: %s lost the device", d.fail)
	}
	return d.Device.Dispatch(p, bufs...)
}

func targets(t *testing.T, specs ...string) []backend.Info {
	t.Helper()
	ts, err := Targets(specs)
	require.NoError(t, err)
	return ts
}
