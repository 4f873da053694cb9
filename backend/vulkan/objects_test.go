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

	"github.com/crossgrad/crossgrad/backend"
)

func TestResultKinds(t *testing.T) {
	err := fmt.Errorf("vulkan: buffers block of 64 bytes: %w", resultErr("vkAllocateMemory", vk.ErrorOutOfDeviceMemory))
	assert.ErrorIs(t, err, backend.ErrOutOfMemory)
	var re *ResultError
	require.True(t, errors.As(err, &re))
	assert.Equal(t, vk.ErrorOutOfDeviceMemory, re.Result)
	assert.ErrorIs(t, err, vk.Error(vk.ErrorOutOfDeviceMemory), "vulkan-go's error stays in the chain")
	assert.ErrorIs(t, resultErr("vkQueueSubmit", vk.ErrorOutOfHostMemory), backend.ErrOutOfMemory)
	lost := resultErr("vkQueueSubmit", vk.ErrorDeviceLost)
	assert.ErrorIs(t, lost, backend.ErrDeviceLost)
	assert.NotErrorIs(t, lost, backend.ErrOutOfMemory)
	assert.Equal(t, "vulkan: vkQueueSubmit failed: vulkan error: device lost (VkResult -4)", lost.Error())
	assert.ErrorIs(t, resultErr("vkCreateInstance", vk.ErrorIncompatibleDriver), backend.ErrNoDriver)
	other := resultErr("vkCreateShaderModule", vk.ErrorInvalidShaderNv)
	for _, kind := range []error{backend.ErrOutOfMemory, backend.ErrDeviceLost, backend.ErrNoDriver} {
		assert.NotErrorIs(t, other, kind)
	}
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

// TestTexelViewsFollowTheirBlocks checks that a texel dispatch creates one
// view per operand, that repeating it creates none, and that a view goes
// when its memory block is destroyed.
func TestTexelViewsFollowTheirBlocks(t *testing.T) {
	d := openOrSkip(t, Options{CacheDir: "-", BlockSize: 4096})
	g := backend.Gemm{M: 64, N: 64, K: 64, Alpha: 1}
	cfg := texelCfg(8, 8, 4, 4, 1).config()
	a, b, c := allocT(t, d, 64*64), allocT(t, d, 64*64), allocT(t, d, 64*64) // a block each
	base := d.LiveObjects()
	for range 2 {
		require.NoError(t, d.DispatchTile(cfg, g, a, b, c))
		require.NoError(t, d.Sync())
		assert.Len(t, d.descs.views, 2, "one view per operand, reused")
	}
	grown := d.LiveObjects()
	assert.Greater(t, grown, base)
	a.Release()
	b.Release()
	require.NoError(t, d.Sync()) // trims the empty blocks but one
	assert.Len(t, d.descs.views, 1, "the views of destroyed blocks go with them")
	c.Release()
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
