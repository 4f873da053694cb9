package vulkan

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// reciprocalDiv mirrors udiv of shaders/vulkan/common.glsl under
// TILE_TEXEL in float32: the truncated product of a and inv, corrected
// once by the remainder.
func reciprocalDiv(a, d uint32, inv float32) uint32 {
	q := uint32(float32(a) * inv)
	r := int32(a) - int32(q*d)
	switch {
	case r < 0:
		return q - 1
	case r >= int32(d):
		return q + 1
	}
	return q
}

// TestReciprocalDivisionExact checks the texel variants' index division
// for every dividend below 2^22 (the range the shader claims exact; the
// host keeps dispatches below half of it) and divisors from 1 to conv.0's
// output plane at batch 128, with the reciprocal correctly rounded and 2
// ulp off either way (Vulkan allows 2.5 ulp for a division).
func TestReciprocalDivisionExact(t *testing.T) {
	if testing.Short() {
		t.Skip("4 M dividends per divisor")
	}
	for _, d := range []uint32{1, 2, 3, 4, 5, 7, 9, 11, 15, 25, 49, 121, 225, 1200, 3025, 6272, 28800, 387200, 4194303} {
		inv := float32(1) / float32(d)
		for _, off := range []int{0, -2, 2} {
			r := inv
			for i := 0; i < max(off, -off); i++ {
				if off > 0 {
					r = math.Nextafter32(r, 2)
				} else {
					r = math.Nextafter32(r, 0)
				}
			}
			bad := 0
			for a := uint32(0); a < 1<<22; a++ {
				if reciprocalDiv(a, d, r) != a/d {
					bad++
				}
			}
			assert.Zero(t, bad, "divisor %d, reciprocal %d ulp off", d, off)
		}
	}
}

// TestTexelVariantsRefuseLargeDividends: a convolution whose columns or
// reduction reach texelDivLimit cannot take a texel configuration (its
// float-reciprocal divisions would not be exact); below it, and with a
// storage-buffer configuration, it can.
func TestTexelVariantsRefuseLargeDividends(t *testing.T) {
	d := planDevice(1 << 30)
	d.info.Type = backend.CPUDevice
	d.limits.MaxTexelBufferElements = 1 << 30
	tx := texelCfg(8, 8, 4, 1, 1)
	direct := directCfg(8, 8, 4, 1, 1, 0)
	small := backend.NewConv2DShape(128, 1, 65, 65, 48, 11, 11, 4, 1) // cpu-quick's conv.0
	wide := backend.NewConv2DShape(1024, 1, 65, 65, 48, 11, 11, 4, 1) // N*H*W = 4.3 M
	for _, c := range []struct {
		p  backend.Params
		ok bool
	}{
		{backend.Conv2DFwd{Conv2DShape: small}, true},
		{backend.Conv2DBwdData{Conv2DShape: small}, true},
		{backend.Conv2DFwd{Conv2DShape: wide}, false},
		{backend.Conv2DBwdFilter{Conv2DShape: wide}, false},
	} {
		require.NoError(t, c.p.Validate())
		err := d.checkFor(c.p, tx)
		if c.ok {
			assert.NoError(t, err, c.p.Shape())
		} else if assert.Error(t, err, c.p.Shape()) {
			assert.Contains(t, err.Error(), "N*H*W")
			assert.Contains(t, err.Error(), "tx=0")
		}
		assert.NoError(t, d.checkFor(c.p, direct), "%s: storage buffers divide as integers", c.p.Shape())
	}
	assert.NoError(t, convTexelDivisions(backend.Gemm{M: 4096, N: 4096, K: 4096, Alpha: 1}), "gemm divides nothing")
}
