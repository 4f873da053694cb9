package graph_test

import (
	"math/rand/v2"
	"testing"

	"github.com/crossgrad/crossgrad/alexnet"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/stretchr/testify/require"
)

// tinyAlexNet is the seed architecture at input 65 and width 1/16: conv
// channels 6, 16, 24, 24, 16, fc hidden 256, flatten 16*1*1.
func tinyAlexNet(t *testing.T, dropout float32) *alexnet.Model {
	t.Helper()
	o := alexnet.DefaultOptions()
	o.InputSize, o.Width, o.Dropout, o.Seed = 65, 1.0/16, dropout, 1234
	m, err := alexnet.New(o)
	require.NoError(t, err)
	return m
}

// randomBatch returns n random 28x28 images and labels in [0, 10).
func randomBatch(r *rand.Rand, n int) ([]byte, []int) {
	img := make([]byte, n*784)
	for i := range img {
		img[i] = byte(r.IntN(256))
	}
	lab := make([]int, n)
	for i := range lab {
		lab[i] = r.IntN(10)
	}
	return img, lab
}

func hostParams(ts []graph.HostTensor) [][]float64 {
	out := make([][]float64, len(ts))
	for i, t := range ts {
		out[i] = testutil.To64(t.Data)
	}
	return out
}
