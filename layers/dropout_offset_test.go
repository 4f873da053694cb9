package layers_test

import (
	"testing"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/layers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDropoutImageOffset: the dispatches carry Offset = ImageOffset times the
// elements of one image (0 without an offset, as before), in training,
// evaluation and backward; images 2.. of a batch of 5 at ImageOffset 0 get
// the same outputs as a batch of 3 at ImageOffset 2.
func TestDropoutImageOffset(t *testing.T) {
	l := layers.NewDropout(0.5, 11)
	dev := ref.New()
	defer dev.Close()
	alloc := func(n int) backend.Buffer {
		b, err := dev.Alloc(n)
		require.NoError(t, err)
		return b
	}
	const per = 4 * 3
	whole := &layers.Ctx{In: layers.Shape{5, 4, 3}, Out: layers.Shape{5, 4, 3}, Train: true, Step: 6,
		X: alloc(5 * per), Y: alloc(5 * per), DY: alloc(5 * per), DX: alloc(5 * per)}
	part := &layers.Ctx{In: layers.Shape{3, 4, 3}, Out: layers.Shape{3, 4, 3}, Train: true, Step: 6, ImageOffset: 2,
		X: alloc(3 * per), Y: alloc(3 * per), DY: alloc(3 * per), DX: alloc(3 * per)}

	fwd := l.Forward(whole)
	require.Len(t, fwd, 1)
	assert.Equal(t, backend.DropoutFwd{N: 5 * per, Seed: 11, Step: 6, P: 0.5, Scale: 2}, fwd[0].P)
	pf, pb := l.Forward(part), l.Backward(part)
	assert.Equal(t, backend.DropoutFwd{N: 3 * per, Seed: 11, Step: 6, Offset: 2 * per, P: 0.5, Scale: 2}, pf[0].P)
	assert.Equal(t, backend.DropoutBwd{N: 3 * per, Seed: 11, Step: 6, Offset: 2 * per, P: 0.5, Scale: 2}, pb[0].P)
	eval := *part
	eval.Train, eval.Step = false, 0
	assert.Equal(t, backend.DropoutFwd{N: 3 * per, Seed: 11, Offset: 2 * per, P: 0, Scale: 1}, l.Forward(&eval)[0].P)

	x := make([]float32, 5*per)
	for i := range x {
		x[i] = float32(i + 1)
	}
	require.NoError(t, dev.Write(whole.X, 0, x))
	require.NoError(t, dev.Write(whole.DY, 0, x))
	require.NoError(t, dev.Write(part.X, 0, x[2*per:]))
	require.NoError(t, dev.Write(part.DY, 0, x[2*per:]))
	require.NoError(t, layers.Run(dev, append(fwd, l.Backward(whole)...)))
	require.NoError(t, layers.Run(dev, append(pf, pb...)))
	for _, b := range [][2]backend.Buffer{{whole.Y, part.Y}, {whole.DX, part.DX}} {
		w, p := make([]float32, 5*per), make([]float32, 3*per)
		require.NoError(t, dev.Read(b[0], 0, w))
		require.NoError(t, dev.Read(b[1], 0, p))
		assert.Equal(t, w[2*per:], p)
		assert.Contains(t, p, float32(0))
	}
}
