package vulkan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
)

// planDevice is a Device with limits only: enough to plan dispatches that
// need no scratch or table buffers, without a driver.
func planDevice(maxRange uint32) *Device {
	d := &Device{}
	d.limits.MaxStorageBufferRange = maxRange
	d.limits.MinStorageBufferOffsetAlignment = 16
	d.limits.MaxComputeWorkGroupInvocations = 256
	d.limits.MaxComputeWorkGroupSize = [3]uint32{256, 256, 64}
	d.limits.MaxComputeSharedMemorySize = 32 << 10
	d.limits.MaxTexelBufferElements = 1 << 20
	return d
}

// planBuffers is one Buffer per size.
func planBuffers(sizes []int) []*Buffer {
	b := make([]*Buffer, len(sizes))
	for i, n := range sizes {
		b[i] = &Buffer{n: n}
	}
	return b
}

func TestEveryKernelHasAPlanner(t *testing.T) {
	require.NoError(t, backendtest.CheckKernelTable(planners))
	unsplittable := map[backend.Kernel]bool{backend.KGemm: true, backend.KSoftmaxXent: true, backend.KResizeBilinear: true,
		backend.KWinogradInput: true, backend.KWinogradFilter: true, backend.KWinogradOutput: true,
		backend.KWinogradDy: true, backend.KWinogradDw: true}
	for _, k := range backend.Kernels() {
		_, elementwise := backend.ParamsFor(k).(backend.Elementwise)
		_, split := splitters[k]
		assert.True(t, elementwise != split || unsplittable[k], "%s: element-wise %v, splitter %v", k, elementwise, split)
	}
}

// TestBarriersFollowRoles plans every small conformance case and checks
// that each pass marks a dispatch buffer written exactly where the
// kernel's roles say it writes it.
func TestBarriersFollowRoles(t *testing.T) {
	d := planDevice(1 << 30)
	planned := map[backend.Kernel]bool{}
	for _, c := range backendtest.Cases() {
		k := c.Kernel()
		if c.Large || k == backend.KResizeBilinear || planned[k] {
			continue // resize needs its table buffer on a device
		}
		bufs := planBuffers(c.Params.BufferSizes())
		passes, err := d.plan(c.Params, bufs)
		require.NoError(t, err, c.FullName())
		require.NotEmpty(t, passes, c.FullName())
		roles := c.Params.Buffers()
		for _, ps := range passes {
			for _, b := range ps.binds {
				for i, own := range bufs {
					if b.b == own {
						assert.Equal(t, roles[i].Access.Writes(), b.write, "%s: %s buffer %d (%s)", c.FullName(), ps.module, i, roles[i].Name)
					}
				}
			}
		}
		planned[k] = true
	}
	assert.Len(t, planned, len(backend.Kernels())-1)
}

func TestPlanTakesParamsByPointer(t *testing.T) {
	d := planDevice(1 << 30)
	passes, err := d.plan(&backend.Fill{N: 5, Value: 2}, planBuffers([]int{5}))
	require.NoError(t, err)
	require.Len(t, passes, 1)
	assert.Equal(t, "fill", passes[0].module)
	assert.Equal(t, pushBytes(backend.Fill{N: 5, Value: 2}), passes[0].push)
}

// TestSplitElementwiseWindows checks that an element-wise dispatch over the
// range limit becomes windows of fewer elements, each with its offset, and
// that dropout's windows carry their first element's index.
func TestSplitElementwiseWindows(t *testing.T) {
	d := planDevice(64) // 16 floats per window
	passes, err := d.plan(backend.Axpy{N: 40, Alpha: 2}, planBuffers([]int{40, 40}))
	require.NoError(t, err)
	require.Len(t, passes, 3)
	for i, want := range []struct{ off, n int }{{0, 16}, {16, 16}, {32, 8}} {
		assert.Equal(t, pushBytes(backend.Axpy{N: uint32(want.n), Alpha: 2}), passes[i].push, "window %d", i)
		for _, b := range passes[i].binds {
			assert.Equal(t, want.off, b.off)
			assert.Equal(t, want.n, b.elems)
		}
		assert.True(t, passes[i].binds[1].write)
		assert.False(t, passes[i].binds[0].write)
	}
	passes, err = d.plan(backend.DropoutFwd{N: 20, Seed: 3, P: 0.5, Scale: 2}, planBuffers([]int{20, 20}))
	require.NoError(t, err)
	require.Len(t, passes, 2)
	assert.Equal(t, pushBytes(dropoutPush[backend.DropoutFwd]{backend.DropoutFwd{N: 4, Seed: 3, P: 0.5, Scale: 2}, 16}), passes[1].push)

	_, err = d.plan(backend.Gemm{M: 5, N: 5, K: 5, Alpha: 1}, planBuffers([]int{25, 25, 25}))
	assert.ErrorContains(t, err, "gemm cannot be split")
}
