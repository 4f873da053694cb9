package backend_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/crossgrad/crossgrad/backend"
)

// TestFusedReluFlags checks the Relu flags of conv2d_fwd and bias_add: 0 or
// 1, kept by WithConvShape, and no part of the tuning key.
func TestFusedReluFlags(t *testing.T) {
	g := backend.NewConv2DShape(3, 5, 9, 7, 4, 3, 3, 2, 1)
	p := backend.Conv2DFwd{Conv2DShape: g, Relu: 1}
	assert.NoError(t, p.Validate())
	h := g
	h.N = 1
	assert.Equal(t, backend.Conv2DFwd{Conv2DShape: h, Relu: 1}, backend.WithConvShape(p, h))
	assert.Equal(t, backend.Conv2DFwd{Conv2DShape: h, Relu: 1}, backend.WithConvShape(&p, h))
	assert.Equal(t, backend.KeyOf(backend.Conv2DFwd{Conv2DShape: g}), backend.KeyOf(p))
	p.Relu = 2
	assert.EqualError(t, p.Validate(), "conv2d_fwd: Relu must be 0 or 1, got 2")
	p.Relu, p.K = 1, 0
	assert.ErrorContains(t, p.Validate(), "every size and stride must be positive")

	assert.NoError(t, backend.BiasAdd{Rows: 2, Cols: 3, Relu: 1}.Validate())
	assert.EqualError(t, backend.BiasAdd{Rows: 2, Cols: 3, Relu: 7}.Validate(), "bias_add: Relu must be 0 or 1, got 7")
}
