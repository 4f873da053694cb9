package graph_test

import (
	"math"
	"testing"

	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	"github.com/crossgrad/crossgrad/graph"

	_ "github.com/crossgrad/crossgrad/backend/opencl"
	_ "github.com/crossgrad/crossgrad/backend/vulkan"
)

// TestNonFiniteNamesPoisonedTensors poisons one element of a parameter and
// two of an Adam moment and gets exactly those tensors back, on every
// backend (all 48 counts are queued into one buffer before its one Read).
func TestNonFiniteNamesPoisonedTensors(t *testing.T) {
	for _, name := range []string{"ref", "opencl", "vulkan"} {
		t.Run(name, func(t *testing.T) {
			open := backendtest.OpenOrSkip(t, func() (backend.Device, error) { return backend.Open(name) })
			dev := &testutil.CountingDevice{Device: open}
			defer dev.Close()
			m := tinyAlexNet(t, 0.5)
			plan, err := graph.New(dev, m.Sequential, m.InputShape(2), graph.Config{})
			require.NoError(t, err)
			defer plan.Close()
			img, lab := randomBatch(testutil.NewRNG(3), 2)
			require.NoError(t, plan.Upload(img, lab))
			_, err = plan.TrainStep(1, 2)
			require.NoError(t, err)

			dev.Reads, dev.Dispatches = 0, 0
			bad, err := plan.NonFinite()
			require.NoError(t, err)
			assert.Empty(t, bad, "a freshly trained model is finite")
			params := plan.Params()
			assert.Equal(t, 1, dev.Reads, "one Read for every tensor")
			assert.Equal(t, 3*len(params), dev.Dispatches, "one dispatch per parameter, m and v")

			conv3 := params[2]
			require.Equal(t, "conv.3.weight", conv3.Name)
			require.Equal(t, []int{16, 6, 5, 5}, conv3.Shape)
			require.NoError(t, dev.Write(conv3.Buffer, 17, []float32{float32(math.NaN())}))
			adam, err := plan.ReadAdam()
			require.NoError(t, err)
			v := adam.V[11]
			require.Equal(t, "fc.0.bias", v.Name)
			v.Data[0], v.Data[len(v.Data)-1] = float32(math.Inf(1)), float32(math.Inf(-1))
			require.NoError(t, plan.LoadAdam(adam))

			bad, err = plan.NonFinite()
			require.NoError(t, err)
			assert.Equal(t, []graph.NonFiniteTensor{
				{Name: "conv.3.weight", Count: 1, Elems: 2400},
				{Name: "fc.0.bias.adam_v", Count: 2, Elems: len(v.Data)},
			}, bad)
			assert.Equal(t, "conv.3.weight (1 of 2400 values)", bad[0].String())

			require.NoError(t, plan.Close())
			_, err = plan.NonFinite()
			require.ErrorContains(t, err, "closed")
		})
	}
}
