package ref

import (
	"math"
	"runtime"
	"testing"

	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

func TestRegisteredAndInfo(t *testing.T) {
	infos, err := backend.Select("ref")
	require.NoError(t, err)
	require.Len(t, infos, 1)
	i := infos[0]
	assert.Equal(t, "ref", i.Backend)
	assert.Equal(t, "ref:0", i.ID())
	assert.Equal(t, "crossgrad", i.Vendor)
	assert.Equal(t, backend.Reference, i.Type)
	assert.Equal(t, "pure-Go reference", i.Name)
	assert.Equal(t, runtime.Version(), i.DriverVersion)
	assert.Positive(t, i.GlobalMemory)
	assert.Positive(t, i.MaxAlloc)
	assert.LessOrEqual(t, i.MaxAlloc, i.GlobalMemory)
	assert.Equal(t, runtime.NumCPU(), i.ComputeUnits)
	assert.Equal(t, 1, i.MaxWorkGroupSize)
	assert.Zero(t, i.LocalMemory)

	d, err := backend.Open("ref:0")
	require.NoError(t, err)
	require.NoError(t, d.Close())
	_, err = backend.Open("ref:1")
	require.Error(t, err)
}

func TestDeviceRoundTripAndDispatch(t *testing.T) {
	d := New()
	defer d.Close()
	x, err := d.Alloc(6)
	require.NoError(t, err)
	got := make([]float32, 6)
	require.NoError(t, d.Read(x, 0, got))
	for _, v := range got {
		assert.True(t, math.IsNaN(float64(v)), "fresh buffers hold NaN")
	}
	require.NoError(t, d.Write(x, 0, []float32{-1, 2, -3, 4, -5, 6}))
	require.NoError(t, d.Write(x, 4, []float32{50, -60}))
	require.NoError(t, d.Dispatch(backend.ReluFwd{N: 6}, x, x)) // in place is allowed
	require.NoError(t, d.Sync())
	require.NoError(t, d.Read(x, 0, got))
	assert.Equal(t, []float32{0, 2, 0, 4, 50, 0}, got)
	part := make([]float32, 2)
	require.NoError(t, d.Read(x, 3, part))
	assert.Equal(t, []float32{4, 50}, part)

	// Out-of-range reads and writes.
	assert.Error(t, d.Write(x, 5, []float32{1, 2}))
	assert.Error(t, d.Write(x, -1, []float32{1}))
	assert.Error(t, d.Read(x, 0, make([]float32, 7)))
	assert.Error(t, d.Read(x, 7, nil))

	// Kernel times since the last call.
	times, err := d.KernelTimes()
	require.NoError(t, err)
	assert.Equal(t, 1, times[backend.KReluFwd].Count)
	assert.GreaterOrEqual(t, times[backend.KReluFwd].Nanos, int64(0))
	times, err = d.KernelTimes()
	require.NoError(t, err)
	assert.Empty(t, times)
}

func TestDispatchErrors(t *testing.T) {
	d := New()
	defer d.Close()
	small, err := d.Alloc(3)
	require.NoError(t, err)
	big, err := d.Alloc(100)
	require.NoError(t, err)

	err = d.Dispatch(backend.Gemm{M: 4, N: 4, K: 4, Alpha: 1}, small, big, big)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gemm")
	assert.Contains(t, err.Error(), "buffer 0")

	err = d.Dispatch(backend.Conv2DFwd{Conv2DShape: backend.NewConv2DShape(1, 1, 4, 4, 1, 3, 3, 1, 0)}, big, big, small)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "conv2d_fwd")

	err = d.Dispatch(backend.Fill{N: 0}, big)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "fill")

	// Aliasing: allowed for elementwise kernels only.
	err = d.Dispatch(backend.Gemm{M: 2, N: 2, K: 2, Alpha: 1}, big, big, big)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "overlap")
	require.NoError(t, d.Dispatch(backend.Axpy{N: 3, Alpha: 1}, small, small))

	// Buffers of another device, released buffers, foreign types.
	other := New()
	defer other.Close()
	foreign, err := other.Alloc(100)
	require.NoError(t, err)
	err = d.Dispatch(backend.Scale{N: 3, Alpha: 2}, foreign)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "another")
	assert.Error(t, d.Write(foreign, 0, []float32{1}))
	assert.Error(t, d.Read(foreign, 0, make([]float32, 1)))
	assert.Error(t, d.Dispatch(backend.Scale{N: 3, Alpha: 2}, fakeBuffer{}))
	small.Release()
	small.Release()
	assert.Error(t, d.Dispatch(backend.Scale{N: 3, Alpha: 2}, small))
	assert.Error(t, d.Write(small, 0, []float32{1}))

	// Bad allocations.
	_, err = d.Alloc(0)
	assert.Error(t, err)
	_, err = d.Alloc(-5)
	assert.Error(t, err)
	_, err = d.Alloc(math.MaxInt32 + 1)
	assert.Error(t, err)

	// Run checks slices the same way.
	assert.ErrorContains(t, Run(backend.Scale{N: 4, Alpha: 1}, make([]float32, 3)), "scale")
	assert.ErrorContains(t, Run(backend.Scale{N: 4, Alpha: 1}), "scale")
	assert.Error(t, Run(nil))
}

type fakeBuffer struct{}

func (fakeBuffer) Len() int { return 1000 }
func (fakeBuffer) Release() {}

func TestLiveBuffersAndClose(t *testing.T) {
	d := New()
	var bufs []backend.Buffer
	for n := 1; n <= 5; n++ {
		b, err := d.Alloc(n)
		require.NoError(t, err)
		bufs = append(bufs, b)
	}
	assert.Equal(t, 5, d.LiveBuffers())
	bufs[1].Release()
	bufs[1].Release() // idempotent
	assert.Equal(t, 4, d.LiveBuffers())
	assert.Equal(t, 3, bufs[2].Len())

	require.NoError(t, d.Close())
	assert.Equal(t, 0, d.LiveBuffers())
	require.NoError(t, d.Close()) // idempotent
	bufs[0].Release()             // harmless after close

	for name, err := range map[string]error{
		"alloc":    func() error { _, err := d.Alloc(1); return err }(),
		"write":    d.Write(bufs[0], 0, []float32{1}),
		"read":     d.Read(bufs[0], 0, make([]float32, 1)),
		"dispatch": d.Dispatch(backend.Fill{N: 1}, bufs[0]),
		"sync":     d.Sync(),
		"times":    func() error { _, err := d.KernelTimes(); return err }(),
	} {
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "closed", name)
	}
}

// Every kernel of the closed list runs through the device and writes every
// element of its overwritten outputs (they start as NaN).
func TestEveryKernelThroughDevice(t *testing.T) {
	conv := backend.NewConv2DShape(2, 2, 6, 5, 3, 3, 3, 2, 1)
	pool := backend.NewPool2DShape(2, 2, 7, 7, 3, 2, 0)
	cases := map[backend.Kernel]struct {
		p   backend.Params
		out []int // indices of overwritten buffers
	}{
		backend.KConv2DFwd:       {backend.Conv2DFwd{Conv2DShape: conv}, []int{3}},
		backend.KConv2DBwdData:   {backend.Conv2DBwdData{Conv2DShape: conv}, []int{2}},
		backend.KConv2DBwdFilter: {backend.Conv2DBwdFilter{Conv2DShape: conv}, []int{2, 3}},
		backend.KMaxPoolFwd:      {backend.MaxPoolFwd{Pool2DShape: pool}, []int{1, 2}},
		backend.KMaxPoolBwd:      {backend.MaxPoolBwd{Pool2DShape: pool}, []int{2}},
		backend.KReluFwd:         {backend.ReluFwd{N: 9}, []int{1}},
		backend.KReluBwd:         {backend.ReluBwd{N: 9}, []int{2}},
		backend.KDropoutFwd:      {backend.DropoutFwd{N: 9, Seed: 1, P: 0.5, Scale: 2}, []int{1}},
		backend.KDropoutBwd:      {backend.DropoutBwd{N: 9, Seed: 1, P: 0.5, Scale: 2}, []int{1}},
		backend.KGemm:            {backend.Gemm{M: 3, N: 4, K: 5, Alpha: 1}, []int{2}},
		backend.KBiasAdd:         {backend.BiasAdd{Rows: 3, Cols: 4}, nil},
		backend.KBiasGrad:        {backend.BiasGrad{Rows: 3, Cols: 4}, []int{1}},
		backend.KSoftmaxXent:     {backend.SoftmaxXent{N: 3, C: 4}, []int{2, 3}},
		backend.KAdam:            {backend.NewAdam(9, 1e-3, 0.9, 0.999, 1e-8, 1), nil},
		backend.KFill:            {backend.Fill{N: 9, Value: 1}, []int{0}},
		backend.KAxpy:            {backend.Axpy{N: 9, Alpha: 1}, nil},
		backend.KScale:           {backend.Scale{N: 9, Alpha: 2}, nil},
		backend.KResizeBilinear:  {backend.ResizeBilinear{N: 2, InH: 5, InW: 5, OutH: 8, OutW: 3}, []int{1}},
		backend.KCountNonfinite:  {backend.CountNonfinite{N: 9}, []int{1}},
		backend.KWinogradInput:   {backend.WinogradInput{N: 2, C: 3, H: 5, W: 4, PadH: 1, PadW: 0, R: 3, S: 3, OH: 5, OW: 2}, []int{1}},
		backend.KWinogradFilter:  {backend.WinogradFilter{K: 3, C: 2, R: 3, S: 3, BwdData: 1}, []int{1}},
		backend.KWinogradOutput:  {backend.WinogradOutput{N: 2, K: 3, OH: 5, OW: 3, Bias: 1}, []int{2}},
		backend.KWinogradDy:      {backend.WinogradDy{N: 2, K: 3, OH: 5, OW: 3, MaskRelu: 1}, []int{1}},
		backend.KWinogradDw:      {backend.WinogradDw{K: 3, C: 2, P: 7, R: 3, S: 3}, []int{2, 3}},
	}
	d := New()
	defer d.Close()
	r := testutil.NewRNG(60)
	for _, k := range backend.Kernels() {
		c, ok := cases[k]
		require.True(t, ok, "no case for %s", k)
		require.Equal(t, k, c.p.Kernel())
		sizes := c.p.BufferSizes()
		bufs := make([]backend.Buffer, len(sizes))
		for i, n := range sizes {
			b, err := d.Alloc(n)
			require.NoError(t, err)
			defer b.Release()
			vals := testutil.RandSlice(r, n)
			switch {
			case k == backend.KMaxPoolBwd && i == 1: // valid indices
				for j := range vals {
					vals[j] = float32(r.IntN(int(pool.H * pool.W)))
				}
			case k == backend.KSoftmaxXent && i == 1: // labels
				for j := range vals {
					vals[j] = float32(r.IntN(4))
				}
			case k == backend.KResizeBilinear && i == 0: // bytes
				for j := range vals {
					vals[j] = float32(r.IntN(256))
				}
			case k == backend.KAdam && i == 3: // v >= 0
				for j := range vals {
					vals[j] *= vals[j]
				}
			}
			require.NoError(t, d.Write(b, 0, vals))
			bufs[i] = b
		}
		for _, i := range c.out {
			require.NoError(t, d.Write(bufs[i], 0, testutil.NaNSlice(sizes[i])))
		}
		require.NoError(t, d.Dispatch(c.p, bufs...), "%s", k)
		for i, b := range bufs {
			got := make([]float32, sizes[i])
			require.NoError(t, d.Read(b, 0, got))
			for j, v := range got {
				require.False(t, math.IsNaN(float64(v)), "%s buffer %d element %d is NaN", k, i, j)
			}
		}
	}
	times, err := d.KernelTimes()
	require.NoError(t, err)
	assert.Len(t, times, len(backend.Kernels()))
}
