package backendtest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/internal/testutil"
)

// TestRunTileVariantsReportsAWrongVariant: both configurations of a fake
// tile engine pass the gemm cases on two devices, until the fake computes
// a wrong product for one case's row count; then that case fails under
// every configuration, named with the configuration.
func TestRunTileVariantsReportsAWrongVariant(t *testing.T) {
	fakes := []*testutil.TileFake{testutil.NewTileFake(ref.New(), backend.TuneIdentity{}, 0), testutil.NewTileFake(ref.New(), backend.TuneIdentity{}, 0)}
	devs := []backend.Device{fakes[0], fakes[1]}
	defer func() {
		for _, d := range devs {
			require.NoError(t, d.Close())
		}
	}()
	vs := []backendtest.TileVariant{{Kernel: backend.KGemm, Config: "v=1"}, {Kernel: backend.KGemm, Config: "v=2"}}
	rep := backendtest.RunTileVariants(devs, vs)
	require.Empty(t, rep.Failures)
	require.Positive(t, rep.Runs)
	assert.Positive(t, rep.Spent[backend.KGemm])
	assert.Positive(t, fakes[0].Ran("v=1"), "the first device takes the first variant")
	assert.Positive(t, fakes[1].Ran("v=2"), "the second device takes the second")

	var victim backendtest.Case
	for _, c := range backendtest.CasesOf(backend.KGemm) {
		if q := c.Params.(backend.Gemm); !c.Large && q.M > 1 && q.Beta == 0 {
			victim = c
			break
		}
	}
	require.NotEmpty(t, victim.Name)
	for _, f := range fakes {
		f.Square = victim.Params.(backend.Gemm).M
	}
	rep = backendtest.RunTileVariants(devs, vs)
	require.NotEmpty(t, rep.Failures)
	joined := ""
	for _, f := range rep.Failures {
		joined += f + "\n"
	}
	assert.Contains(t, joined, victim.Name)
	assert.Contains(t, joined, `"v=1"`)
	assert.Contains(t, joined, `"v=2"`)
}
