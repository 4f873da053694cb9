package ref

import (
	"testing"

	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// Known-answer vectors of philox4x32_10 from Random123's kat_vectors.
func TestPhiloxKnownAnswers(t *testing.T) {
	cases := []struct {
		ctr  [4]uint32
		key  [2]uint32
		want [4]uint32
	}{
		{[4]uint32{0, 0, 0, 0}, [2]uint32{0, 0},
			[4]uint32{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
		{[4]uint32{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, [2]uint32{0xffffffff, 0xffffffff},
			[4]uint32{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
		{[4]uint32{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, [2]uint32{0xa4093822, 0x299f31d0},
			[4]uint32{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Philox4x32(c.ctr, c.key), "counter %x key %x", c.ctr, c.key)
	}
}

func TestDropoutUniformDefinition(t *testing.T) {
	for _, i := range []uint32{0, 1, 77, 1 << 20} {
		x0 := Philox4x32([4]uint32{i, 5, 0, 0}, [2]uint32{42, 0xCA5A0B1E})[0]
		u := DropoutUniform(42, 5, i)
		assert.Equal(t, float64(x0>>8)/(1<<24), float64(u))
		assert.GreaterOrEqual(t, u, float32(0))
		assert.Less(t, u, float32(1))
	}
	assert.True(t, DropoutKeep(1, 2, 3, 0), "p = 0 keeps everything")
	assert.False(t, DropoutKeep(1, 2, 3, 1), "p = 1 drops everything")
}

func TestDropoutKeepRate(t *testing.T) {
	const n = 200001
	for _, p := range []float32{0.1, 0.5, 0.9} {
		x := make([]float32, n)
		for i := range x {
			x[i] = 1
		}
		y := testutil.NaNSlice(n)
		prm := backend.DropoutFwd{N: n, Seed: 1234, Step: 7, P: p, Scale: backend.DropoutScale(p)}
		require.NoError(t, Run(prm, x, y))
		kept := 0
		for i, v := range y {
			keep := DropoutKeep(1234, 7, uint32(i), p)
			if keep {
				kept++
				require.Equal(t, prm.Scale, v)
			} else {
				require.Equal(t, float32(0), v)
			}
		}
		rate := float64(kept) / n
		// binomial standard deviation is at most 0.0012 here; allow 5 sigma
		assert.InDelta(t, 1-float64(p), rate, 0.006, "keep rate for p=%v", p)
	}
	// Different steps and seeds give different masks.
	same := 0
	for i := range uint32(1000) {
		if DropoutKeep(1, 1, i, 0.5) == DropoutKeep(1, 2, i, 0.5) {
			same++
		}
	}
	assert.InDelta(t, 500, same, 80)
}
