package tune

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// TestProxyKeepsFilterGradientAlignment: cpu-quick's conv.3 filter gradient
// (N*OH*OW = 128*49) is ranked at a batch that keeps 4 dividing N*OH*OW (20,
// not the 18 the time alone gives); a forward convolution takes the batch
// the time gives, and a reduction 4 did not divide stays as it falls.
func TestProxyKeepsFilterGradientAlignment(t *testing.T) {
	g := backend.NewConv2DShape(128, 48, 7, 7, 128, 5, 5, 1, 2)
	q, ok := proxyOf(backend.Conv2DBwdFilter{Conv2DShape: g}, 1055)
	require.True(t, ok)
	assert.Equal(t, uint32(20), q.(backend.Conv2DBwdFilter).N)
	q, ok = proxyOf(backend.Conv2DFwd{Conv2DShape: g}, 1055)
	require.True(t, ok)
	assert.Equal(t, uint32(18), q.(backend.Conv2DFwd).N)
	odd := backend.NewConv2DShape(127, 48, 7, 7, 128, 5, 5, 1, 2)
	q, ok = proxyOf(backend.Conv2DBwdFilter{Conv2DShape: odd}, 1055)
	require.True(t, ok)
	assert.Equal(t, uint32(18), q.(backend.Conv2DBwdFilter).N)
}
