package testutil_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/internal/testutil"
)

// recorder is a testutil.T that records failures instead of stopping.
type recorder struct{ failures []string }

func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}
func (r *recorder) FailNow() {}
func (r *recorder) Helper()  {}

func TestRequireCloseIsAtolPlusRtolTimesRef(t *testing.T) {
	cases := []struct {
		got  []float32
		want []float64
		pass bool
	}{
		{[]float32{1.5}, []float64{1}, true},     // 0.5 <= 0.25 + 0.25*1
		{[]float32{1.5625}, []float64{1}, false}, // 0.5625 > 0.5
		{[]float32{-3.5}, []float64{-2}, false},  // 1.5 > 0.25 + 0.25*2: scaled by |ref|, not |got|
		{[]float32{float32(math.NaN())}, []float64{1}, false},
		{[]float32{1, 1}, []float64{1}, false},
	}
	for i, c := range cases {
		r := &recorder{}
		testutil.RequireClose(r, c.got, c.want, 0.25, 0.25, "x")
		assert.Equal(t, c.pass, len(r.failures) == 0, "case %d: %v", i, r.failures)
	}
	r := &recorder{}
	testutil.RequireClose(r, []float32{10}, []float64{8}, 0, 0.25, "w")
	assert.Empty(t, r.failures, "2 <= 0.25*8")
	testutil.RequireClose(r, []float32{8}, []float64{10}, 0, 0.19, "w")
	require.Len(t, r.failures, 1, "2 > 0.19*10")
	assert.Contains(t, r.failures[0], "w[0] = 8, want 10")
}

func TestFiniteDiffRestoresAndDifferentiates(t *testing.T) {
	x := []float32{0.5, -1, 2}
	loss := func() float64 { return float64(x[0]*x[0]) + 3*float64(x[1]) + float64(x[2]*x[2]*x[2]) }
	g := testutil.FiniteDiff(x, 1.0/64, loss)
	assert.Equal(t, []float32{0.5, -1, 2}, x)
	assert.InDelta(t, 1, g[0], 1e-6)
	assert.InDelta(t, 3, g[1], 1e-6)
	assert.InDelta(t, 12, g[2], 1e-3)

	y := []float64{2, -3}
	g64 := testutil.FiniteDiff(y, 1e-6, func() float64 { return y[0] * y[1] })
	assert.Equal(t, []float64{2, -3}, y)
	assert.InDelta(t, -3, g64[0], 1e-8)
	assert.InDelta(t, 2, g64[1], 1e-8)
}

func TestRandomAndNumericHelpers(t *testing.T) {
	a := testutil.RandSlice(testutil.NewRNG(7), 1000)
	b := testutil.RandSlice(testutil.NewRNG(7), 1000)
	assert.Equal(t, a, b, "same seed, same values")
	assert.NotEqual(t, a, testutil.RandSlice(testutil.NewRNG(8), 1000))
	for _, v := range a {
		require.True(t, v >= -1 && v < 1, v)
	}
	for _, v := range testutil.NaNSlice(3) {
		assert.True(t, math.IsNaN(float64(v)))
	}
	assert.Len(t, testutil.NaNSlice(3), 3)
	assert.Equal(t, []float64{0.5, -2}, testutil.To64([]float32{0.5, -2}))
	assert.InDelta(t, 0.5*4-2*3, testutil.Dot64([]float32{0.5, -2}, []float32{4, 3}), 0)
}

func TestFakeDeviceFailsTheNthAllocation(t *testing.T) {
	dev := ref.New()
	defer dev.Close()
	fake := &testutil.FakeDevice{Device: dev, FailAlloc: 3}
	var bufs []backend.Buffer
	for range 2 {
		b, err := fake.Alloc(4)
		require.NoError(t, err)
		bufs = append(bufs, b)
	}
	_, err := fake.Alloc(4)
	require.ErrorIs(t, err, backend.ErrOutOfMemory)
	assert.EqualError(t, err, "fake: out of device memory")
	_, err = fake.Alloc(4)
	require.ErrorIs(t, err, testutil.ErrFakeOutOfMemory, "every later allocation fails too")
	assert.Equal(t, 2, fake.Allocs)
	assert.Equal(t, 2, dev.LiveBuffers())
	for _, b := range bufs {
		b.Release()
	}

	custom := fmt.Errorf("driver said no")
	fake = &testutil.FakeDevice{Device: dev, FailAlloc: 1, AllocErr: custom}
	_, err = fake.Alloc(1)
	require.ErrorIs(t, err, custom)
	assert.Zero(t, fake.Allocs)

	fake = &testutil.FakeDevice{Device: dev}
	assert.Equal(t, dev.Info(), fake.Info())
	fake.Reported = &backend.Info{Name: "tiny", GlobalMemory: 1 << 20}
	assert.Equal(t, "tiny", fake.Info().Name)
	for range 5 {
		b, err := fake.Alloc(1)
		require.NoError(t, err, "FailAlloc 0 never fails")
		b.Release()
	}
	assert.Equal(t, 5, fake.Allocs)
}

func TestCountingDeviceCountsEveryCrossing(t *testing.T) {
	dev := &testutil.CountingDevice{Device: ref.New()}
	defer dev.Close()
	b, err := dev.Alloc(4)
	require.NoError(t, err)
	defer b.Release()
	require.NoError(t, dev.Write(b, 0, []float32{1, -2, 3, -4}))
	require.NoError(t, dev.Dispatch(backend.ReluFwd{N: 4}, b, b))
	require.NoError(t, dev.Sync())
	out := make([]float32, 4)
	require.NoError(t, dev.Read(b, 0, out))
	require.NoError(t, dev.Read(b, 0, out))
	assert.Equal(t, []float32{1, 0, 3, 0}, out)
	assert.Equal(t, [4]int{2, 1, 1, 1}, [4]int{dev.Reads, dev.Writes, dev.Syncs, dev.Dispatches})
}
