package vulkan

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	vk "github.com/vulkan-go/vulkan"
)

func TestOutOfMemoryMarker(t *testing.T) {
	var m interface{ OutOfMemory() bool }
	err := fmt.Errorf("vulkan: buffers block of 64 bytes: %w: %w", errOutOfMemory, resultErr("vkAllocateMemory", vk.ErrorOutOfDeviceMemory))
	require.True(t, errors.As(err, &m))
	assert.True(t, m.OutOfMemory())
	assert.ErrorIs(t, err, errOutOfMemory)
	require.True(t, errors.As(resultErr("vkQueueSubmit", vk.ErrorOutOfHostMemory), &m))
	assert.True(t, m.OutOfMemory())
	require.True(t, errors.As(resultErr("vkQueueSubmit", vk.ErrorDeviceLost), &m))
	assert.False(t, m.OutOfMemory())
}

func TestLiveObjectsReturnToBaseline(t *testing.T) {
	d := openOrSkip(t, Options{CacheDir: "-"})
	x, err := d.Alloc(1000)
	require.NoError(t, err)
	base := d.LiveObjects()
	require.Positive(t, base)
	for range 3 {
		b, err := d.Alloc(500)
		require.NoError(t, err)
		assert.Equal(t, base+1, d.LiveObjects())
		b.Release()
	}
	assert.Equal(t, base, d.LiveObjects())
	x.Release()
	require.NoError(t, d.Close())
	assert.Zero(t, d.LiveObjects())
}

func TestOversizedCacheFileIsIgnored(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "big.pipelines")
	f, err := os.Create(file)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(maxCacheBytes+1)) // sparse: no disk used
	require.NoError(t, f.Close())
	var logs bytes.Buffer
	log.SetOutput(&logs)
	defer log.SetOutput(os.Stderr)
	assert.Nil(t, loadCache(file, &vk.PhysicalDeviceProperties{}))
	assert.Contains(t, logs.String(), "over the 268435456-byte limit")
}
