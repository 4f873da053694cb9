package backendtest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
)

// TestConvCheckCasesKeepFilterLengthAlignment: when 4 divides a
// convolution's C*R*S, it divides its check cases' too (so that a
// configuration with 4-wide filter loads can be checked), and otherwise
// the cases keep their odd channel counts.
func TestConvCheckCasesKeepFilterLengthAlignment(t *testing.T) {
	for _, tc := range []struct {
		g       backend.Conv2DShape
		aligned bool
	}{
		{backend.NewConv2DShape(128, 48, 7, 7, 128, 5, 5, 1, 2), true},
		{backend.NewConv2DShape(128, 192, 3, 3, 192, 3, 3, 1, 1), true},
		{backend.NewConv2DShape(128, 1, 65, 65, 48, 11, 11, 4, 1), false},
	} {
		cases := backendtest.CheckCases(backend.Conv2DFwd{Conv2DShape: tc.g})
		require.Len(t, cases, 2)
		odd := false
		for _, cs := range cases {
			g, ok := backend.ConvShapeOf(cs.Params)
			require.True(t, ok)
			crs := g.C * g.R * g.S
			if tc.aligned {
				assert.Zero(t, crs%4, "%s: %s", cs.Name, g)
			}
			odd = odd || g.C%2 == 1
		}
		assert.Equal(t, !tc.aligned, odd, "odd channel counts unless the alignment needs more")
	}
}
