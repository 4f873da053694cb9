package vulkan

import (
	"bytes"
	"errors"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	vk "github.com/vulkan-go/vulkan"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
)

func TestDevicesAndInfo(t *testing.T) {
	devs, err := vulkanBackend{}.Devices()
	if err != nil {
		if errors.Is(err, backend.ErrNoDriver) && os.Getenv("CI") != "true" {
			t.Skipf("no Vulkan driver: %v", err)
		}
		require.NoError(t, err)
	}
	require.NotEmpty(t, devs)
	for _, info := range devs {
		t.Logf("%s", info)
		assert.Equal(t, "vulkan", info.Backend)
		assert.NotEmpty(t, info.Name)
		assert.NotEmpty(t, info.Vendor)
		assert.Positive(t, info.GlobalMemory)
		assert.Positive(t, info.MaxAlloc)
		assert.LessOrEqual(t, info.MaxAlloc, info.GlobalMemory)
		assert.GreaterOrEqual(t, info.MaxWorkGroupSize, 128)
		assert.GreaterOrEqual(t, info.LocalMemory, uint64(16384))
		if strings.Contains(info.Name, "llvmpipe") {
			assert.Equal(t, "mesa", info.Vendor)
			assert.Equal(t, backend.CPUDevice, info.Type)
		}
	}
	d, err := backend.Open("vulkan:0")
	require.NoError(t, err)
	assert.Equal(t, devs[0].Name, d.Info().Name)
	require.NoError(t, d.Close())
	require.NoError(t, d.Close(), "Close is idempotent")
	_, err = d.Alloc(1)
	assert.ErrorIs(t, err, errClosed)
	assert.ErrorIs(t, err, backend.ErrClosed)
	_, err = OpenDevice(len(devs)+5, Options{})
	assert.Error(t, err)
}

// TestBatchingAndDescriptorReuse checks that dispatches are submitted in
// batches without Sync and that repeated dispatches reuse descriptor sets.
func TestBatchingAndDescriptorReuse(t *testing.T) {
	d := openOrSkip(t, Options{MaxBatch: 8})
	defer d.Close()
	x := allocT(t, d, 100)
	y := allocT(t, d, 100)
	require.NoError(t, d.Dispatch(backend.Fill{N: 100, Value: 1}, x))
	require.NoError(t, d.Dispatch(backend.Fill{N: 100, Value: 0}, y))
	sets := len(d.descs.sets)
	for range 50 {
		require.NoError(t, d.Dispatch(backend.Axpy{N: 100, Alpha: 1}, x, y))
	}
	assert.GreaterOrEqual(t, d.rec.serial, uint64(6), "a batch of 8 dispatches is submitted when full")
	assert.Equal(t, sets+1, len(d.descs.sets), "one new descriptor set for the repeated axpy")
	got := make([]float32, 100)
	require.NoError(t, d.Read(y, 0, got))
	assert.Equal(t, float32(50), got[99])
	assert.False(t, d.rec.pending())
}

// TestBadBuffers checks dispatch-time errors: short, foreign and released
// buffers, and a closed device.
func TestBadBuffers(t *testing.T) {
	d := openOrSkip(t, Options{})
	defer d.Close()
	x := allocT(t, d, 10)
	err := d.Dispatch(backend.Fill{N: 11, Value: 1}, x)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "fill")
	rd := ref.New()
	defer rd.Close()
	rb, err := rd.Alloc(10)
	require.NoError(t, err)
	assert.Error(t, d.Dispatch(backend.Fill{N: 10}, rb))
	assert.Error(t, d.Write(rb, 0, []float32{1}))
	x.Release()
	x.Release()
	assert.Error(t, d.Dispatch(backend.Fill{N: 10}, x))
	assert.Error(t, d.Read(x, 0, make([]float32, 1)))
	y := allocT(t, d, 10)
	assert.Error(t, d.Write(y, 5, make([]float32, 6)))
	assert.Error(t, d.Read(y, -1, make([]float32, 1)))
	_, err = d.Alloc(0)
	assert.Error(t, err)
}

// TestAllocTooLarge checks that an allocation beyond the device's limits
// fails with an error naming the size and leaves the device usable.
func TestAllocTooLarge(t *testing.T) {
	d := openOrSkip(t, Options{})
	defer d.Close()
	n := int(min(d.info.MaxAlloc/4+1, uint64(backend.MaxElements)))
	_, err := d.Alloc(n)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bytes")
	assert.ErrorIs(t, err, backend.ErrOutOfMemory)
	x := allocT(t, d, 16)
	require.NoError(t, d.Dispatch(backend.Fill{N: 16, Value: 2}, x))
	got := make([]float32, 16)
	require.NoError(t, d.Read(x, 0, got))
	assert.Equal(t, float32(2), got[15])
}

// TestMemErrNamesSize checks the message of a native out-of-memory result.
func TestMemErrNamesSize(t *testing.T) {
	p := &pool{name: "device"}
	err := p.memErr("vkAllocateMemory", 3<<30, vk.ErrorOutOfDeviceMemory)
	assert.ErrorIs(t, err, backend.ErrOutOfMemory)
	assert.Contains(t, err.Error(), "3221225472 bytes")
	assert.Contains(t, err.Error(), "out of device memory")
}

// TestDeviceLostIsSticky checks that a fatal error makes every later call
// fail with it.
func TestDeviceLostIsSticky(t *testing.T) {
	d := openOrSkip(t, Options{})
	defer d.Close()
	x := allocT(t, d, 4)
	d.mu.Lock()
	_ = d.fail(resultErr("vkQueueSubmit", vk.ErrorDeviceLost))
	d.mu.Unlock()
	err := d.Dispatch(backend.Fill{N: 4}, x)
	assert.ErrorIs(t, err, backend.ErrDeviceLost)
	assert.ErrorIs(t, d.Sync(), backend.ErrDeviceLost)
	assert.ErrorIs(t, d.Read(x, 0, make([]float32, 4)), backend.ErrDeviceLost)
	var re *ResultError
	assert.True(t, errors.As(err, &re))
}

// TestPipelineCacheFile checks that the pipeline cache is saved atomically
// at Close, loaded by the next device, and ignored with a log line when
// corrupt.
func TestPipelineCacheFile(t *testing.T) {
	dir := t.TempDir()
	run := func() {
		d := openOrSkip(t, Options{CacheDir: dir})
		x := allocT(t, d, 8)
		require.NoError(t, d.Dispatch(backend.Fill{N: 8, Value: 1}, x))
		require.NoError(t, d.Sync())
		require.NoError(t, d.Close())
	}
	run()
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	require.Len(t, files, 1, "one cache file, no temporary files")
	raw, err := os.ReadFile(files[0])
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(raw, []byte(cacheMagic)))

	var logs bytes.Buffer
	log.SetOutput(&logs)
	defer log.SetOutput(os.Stderr)
	run()
	assert.Empty(t, logs.String(), "a valid cache loads silently")

	raw[len(raw)-1] ^= 0xFF
	require.NoError(t, os.WriteFile(files[0], raw, 0o644))
	run()
	assert.Contains(t, logs.String(), "ignoring pipeline cache")
	fixed, err := os.ReadFile(files[0])
	require.NoError(t, err)
	d := openOrSkip(t, Options{CacheDir: "-"})
	_, err = checkCache(fixed, &d.phys.props)
	require.NoError(t, d.Close())
	assert.NoError(t, err, "the corrupt cache is replaced at Close")
}

// TestValidationReportsErrors makes an invalid call and checks that the
// validation layer's message fails the next device call.
func TestValidationReportsErrors(t *testing.T) {
	requireValidation(t)
	d := openOrSkip(t, Options{Validation: true, CacheDir: "-"})
	ci := vk.BufferCreateInfo{SType: vk.StructureTypeBufferCreateInfo, Size: 0,
		Usage: vk.BufferUsageFlags(vk.BufferUsageStorageBufferBit), SharingMode: vk.SharingModeExclusive}
	var buf vk.Buffer
	vk.CreateBuffer(d.dev, &ci, nil, &buf)
	ci.Free()
	if buf != nil {
		vk.DestroyBuffer(d.dev, buf, nil)
	}
	require.NotEmpty(t, d.Validation().Errors())
	err := d.Sync()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "validation")
	assert.NoError(t, d.Sync(), "each message is reported once")
	assert.NoError(t, d.Close())
}

// TestBufferBeyondMaxRange runs element-wise kernels over a buffer larger
// than maxStorageBufferRange (when the device's range is at most 256 MiB, as
// lavapipe's 128 MiB), which the backend splits into windows.
func TestBufferBeyondMaxRange(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates more than maxStorageBufferRange")
	}
	d := openOrSkip(t, Options{})
	defer d.Close()
	if d.maxRange() > 256<<20 {
		t.Skipf("maxStorageBufferRange %d: too large to exceed here", d.maxRange())
	}
	n := int(d.maxRange()/4) + 1000
	x := allocT(t, d, n)
	defer x.Release()
	require.NoError(t, d.Dispatch(backend.Fill{N: uint32(n), Value: -1}, x))
	require.NoError(t, d.Dispatch(backend.Scale{N: uint32(n), Alpha: -3}, x))
	p := backend.DropoutFwd{N: uint32(n), Seed: 7, Step: 3, Offset: 1000, P: 0.5, Scale: 2}
	require.NoError(t, d.Dispatch(p, x, x))
	tail := make([]float32, 3000)
	require.NoError(t, d.Read(x, n-len(tail), tail))
	for j, v := range tail {
		i := n - len(tail) + j
		want := float32(0)
		if ref.DropoutKeep(p.Seed, p.Step, p.Offset+uint32(i), p.P) {
			want = 6
		}
		require.Equal(t, want, v, "element %d", i)
	}
}
