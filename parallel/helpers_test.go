package parallel_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/alexnet"
	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/internal/testutil"

	_ "github.com/crossgrad/crossgrad/backend/opencl"
	_ "github.com/crossgrad/crossgrad/backend/ref"
	_ "github.com/crossgrad/crossgrad/backend/vulkan"
)

// tinyWidth is the seed AlexNet at input 65 scaled to width 1/64 (conv
// channels 2 to 6, fc hidden 64): every layer and kernel of the seed at a
// fraction of the reference backend's compute.
const tinyWidth = 1.0 / 64

// newPlan plans the tiny AlexNet (dropout 0.5, init seed 1) for batch
// images on dev, closed at the end of the test, with conv_algo gemm: the
// equivalence bounds measure the split and the reduction. Under Winograd
// the filter gradient leaves a cancellation residue (up to 7.6e-10) on the
// weights whose gradient is exactly zero under implicit GEMM (dead
// channels of this tiny model: 21 of conv.8's 89 at step 1), which Adam
// (eps 1e-8) turns into steps of lr*|g|/eps in a direction the split's
// rounding decides: after 20 steps such a weight differs by up to 1.1e-3,
// an Adam step. Winograd's split is checked where it is exact to float32
// rounding, at the gradients (graph's TestWinogradShardGradients).
func newPlan(t *testing.T, dev backend.Device, batch int) *graph.Plan {
	t.Helper()
	o := alexnet.DefaultOptions()
	o.InputSize, o.Width, o.Dropout, o.Seed = 65, tinyWidth, 0.5, 1234
	m, err := alexnet.New(o)
	require.NoError(t, err)
	p, err := graph.New(dev, m.Sequential, m.InputShape(batch), graph.Config{Seed: 1, ConvAlgo: graph.ConvGemm})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	return p
}

// openDevice opens spec ("ref", "opencl:0", "vulkan:0"), skipping the test
// only when its driver is absent; it is closed at the end of the test.
func openDevice(t *testing.T, spec string) backend.Device {
	t.Helper()
	d := backendtest.OpenOrSkip(t, func() (backend.Device, error) { return backend.Open(spec) })
	t.Cleanup(func() { require.NoError(t, d.Close()) })
	return d
}

// plansOn opens one device per spec and plans the tiny AlexNet on each.
func plansOn(t *testing.T, batch int, specs ...string) []*graph.Plan {
	t.Helper()
	out := make([]*graph.Plan, len(specs))
	for i, s := range specs {
		out[i] = newPlan(t, openDevice(t, s), batch)
	}
	return out
}

// globalBatch is a global batch of packed 28x28 images and labels.
type globalBatch struct{ images, labels []float32 }

// batches returns steps deterministic random global batches of b images.
func batches(seed uint64, steps, b int) []globalBatch {
	r := testutil.NewRNG(seed)
	out := make([]globalBatch, steps)
	for s := range out {
		img := make([]byte, b*784)
		for i := range img {
			img[i] = byte(r.IntN(256))
		}
		lab := make([]float32, b)
		for i := range lab {
			lab[i] = float32(r.IntN(10))
		}
		out[s] = globalBatch{backend.PackBytes(img), lab}
	}
	return out
}

// hub sums the buffers of size in-process ranks in rank order, as an MPI
// allreduce with a fixed order does; each rank talks to it through its
// own fakeReducer.
type hub struct {
	size int
	in   chan contribution
	out  []chan contribution
}

// contribution is one rank's part of a collective call: a buffer to sum
// (AllreduceSum) or a value to compare (Agree, buf nil).
type contribution struct {
	rank int
	buf  []float32
	v    uint64
	ok   bool
	err  error
}

// newHub starts a hub for size ranks, stopped at the end of the test.
func newHub(t *testing.T, size int) *hub {
	h := &hub{size: size, in: make(chan contribution), out: make([]chan contribution, size)}
	for r := range h.out {
		h.out[r] = make(chan contribution, 1)
	}
	go h.serve()
	t.Cleanup(func() { close(h.in) })
	return h
}

func (h *hub) serve() {
	for {
		got := make([]contribution, h.size)
		for range h.size {
			c, ok := <-h.in
			if !ok {
				return
			}
			got[c.rank] = c
		}
		res := contribution{ok: true}
		switch {
		case got[0].buf != nil:
			res.buf = append([]float32(nil), got[0].buf...)
			for _, c := range got[1:] {
				if len(c.buf) != len(res.buf) {
					res.err = fmt.Errorf("hub: rank %d sent %d values, rank 0 %d", c.rank, len(c.buf), len(res.buf))
					break
				}
				for i, v := range c.buf {
					res.buf[i] += v
				}
			}
		default:
			for _, c := range got[1:] {
				res.ok = res.ok && c.v == got[0].v && c.buf == nil
			}
		}
		for _, o := range h.out {
			o <- res
		}
	}
}

// fakeReducer is rank `rank` of a hub: a parallel.Reducer in process.
type fakeReducer struct {
	h    *hub
	rank int
}

func (f fakeReducer) Rank() int { return f.rank }
func (f fakeReducer) Size() int { return f.h.size }

func (f fakeReducer) call(c contribution) (contribution, error) {
	c.rank = f.rank
	timeout := time.After(20 * time.Second)
	select {
	case f.h.in <- c:
	case <-timeout:
		return c, fmt.Errorf("fake rank %d: the other ranks never joined", f.rank)
	}
	select {
	case res := <-f.h.out[f.rank]:
		return res, res.err
	case <-timeout:
		return c, fmt.Errorf("fake rank %d: no result", f.rank)
	}
}

func (f fakeReducer) AllreduceSum(buf []float32) error {
	res, err := f.call(contribution{buf: append([]float32(nil), buf...)})
	if err == nil {
		copy(buf, res.buf)
	}
	return err
}

func (f fakeReducer) Agree(v uint64) (bool, error) {
	res, err := f.call(contribution{v: v})
	return res.ok, err
}

// slowDevice is a device whose queued work takes Factor+1 times as long as
// on the wrapped one: each Read and Sync first sleeps Factor times the time
// the dispatches since the previous one took (the reference backend
// computes in Dispatch), plus Delay. Reads counts the Reads that returned.
type slowDevice struct {
	backend.Device
	Factor  float64
	Delay   time.Duration
	pending time.Duration
	Reads   atomic.Int64
}

func (d *slowDevice) Dispatch(p backend.Params, bufs ...backend.Buffer) error {
	start := time.Now()
	err := d.Device.Dispatch(p, bufs...)
	d.pending += time.Since(start)
	return err
}

func (d *slowDevice) wait() {
	time.Sleep(time.Duration(d.Factor*float64(d.pending)) + d.Delay)
	d.pending = 0
}

func (d *slowDevice) Read(src backend.Buffer, off int, dst []float32) error {
	d.wait()
	defer d.Reads.Add(1)
	return d.Device.Read(src, off, dst)
}

func (d *slowDevice) Sync() error {
	d.wait()
	return d.Device.Sync()
}

// failingDevice loses the device at dispatch number FailAt (from 1) once
// Armed: that dispatch and every later call return an error wrapping
// backend.ErrDeviceLost, as a real backend's lost device does.
type failingDevice struct {
	backend.Device
	Armed      bool
	FailAt     int
	dispatches int
	lost       bool
}

var errFakeLost = fmt.Errorf("fake: queue failed: %w", backend.ErrDeviceLost)

func (d *failingDevice) Dispatch(p backend.Params, bufs ...backend.Buffer) error {
	if d.Armed {
		d.dispatches++
		d.lost = d.lost || d.dispatches >= d.FailAt
	}
	if d.lost {
		return errFakeLost
	}
	return d.Device.Dispatch(p, bufs...)
}

func (d *failingDevice) Read(src backend.Buffer, off int, dst []float32) error {
	if d.lost {
		return errFakeLost
	}
	return d.Device.Read(src, off, dst)
}
