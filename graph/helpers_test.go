package graph_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/crossgrad/crossgrad/alexnet"
	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/stretchr/testify/require"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9a4f)) }

// tinyAlexNet is the seed architecture at input 65 and width 1/16: conv
// channels 6, 16, 24, 24, 16, fc hidden 256, flatten 16*1*1.
func tinyAlexNet(t *testing.T, dropout float32) *alexnet.Model {
	t.Helper()
	o := alexnet.DefaultOptions()
	o.InputSize, o.Width, o.Dropout, o.Seed = 65, 1.0/16, dropout, 1234
	m, err := alexnet.New(o)
	require.NoError(t, err)
	return m
}

// randomBatch returns n random 28x28 images and labels in [0, 10).
func randomBatch(r *rand.Rand, n int) ([]byte, []int) {
	img := make([]byte, n*784)
	for i := range img {
		img[i] = byte(r.IntN(256))
	}
	lab := make([]int, n)
	for i := range lab {
		lab[i] = r.IntN(10)
	}
	return img, lab
}

func to64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

func hostParams(ts []graph.HostTensor) [][]float64 {
	out := make([][]float64, len(ts))
	for i, t := range ts {
		out[i] = to64(t.Data)
	}
	return out
}

// requireClose asserts |got-want| <= atol + rtol*|want| element-wise (NaN
// never passes).
func requireClose(t *testing.T, got []float32, want []float64, atol, rtol float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		g := float64(got[i])
		require.Falsef(t, math.IsNaN(g), "%s[%d] is NaN (want %g)", what, i, want[i])
		require.LessOrEqualf(t, math.Abs(g-want[i]), atol+rtol*math.Abs(want[i]),
			"%s[%d] = %g, want %g", what, i, g, want[i])
	}
}

// fakeDevice wraps a device, reporting info instead of the real Info and
// failing allocations after failAfter successful ones (never when < 0).
type fakeDevice struct {
	backend.Device
	info      backend.Info
	failAfter int
	allocs    int
}

func (d *fakeDevice) Info() backend.Info { return d.info }

func (d *fakeDevice) Alloc(n int) (backend.Buffer, error) {
	if d.failAfter >= 0 && d.allocs >= d.failAfter {
		return nil, errors.New("fake: out of device memory")
	}
	d.allocs++
	return d.Device.Alloc(n)
}

// countingDevice counts the calls that cross to the device.
type countingDevice struct {
	backend.Device
	reads, writes, syncs, dispatches int
}

func (d *countingDevice) Read(src backend.Buffer, off int, dst []float32) error {
	d.reads++
	return d.Device.Read(src, off, dst)
}

func (d *countingDevice) Write(dst backend.Buffer, off int, src []float32) error {
	d.writes++
	return d.Device.Write(dst, off, src)
}

func (d *countingDevice) Sync() error {
	d.syncs++
	return d.Device.Sync()
}

func (d *countingDevice) Dispatch(p backend.Params, bufs ...backend.Buffer) error {
	d.dispatches++
	return d.Device.Dispatch(p, bufs...)
}
