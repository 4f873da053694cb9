package graph_test

import (
	"testing"

	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/graph"
)

// TestPredictMatchesEvalStep checks that Predict over 7 images on a plan of
// batch 4 (two chunks, the second partial) returns, bit for bit, the logits
// EvalStep and ReadLogits give for the same images, whatever their labels.
func TestPredictMatchesEvalStep(t *testing.T) {
	m := tinyAlexNet(t, 0.5)
	dev := ref.New()
	defer dev.Close()
	plan, err := graph.New(dev, m.Sequential, m.InputShape(4), graph.Config{Seed: 21})
	require.NoError(t, err)
	defer plan.Close()
	img, lab := randomBatch(testutil.NewRNG(8), 7)

	var want []float32
	for _, part := range [][2]int{{0, 4}, {4, 7}} {
		require.NoError(t, plan.Upload(img[part[0]*784:part[1]*784], lab[part[0]:part[1]]))
		_, err := plan.EvalStep(part[1] - part[0])
		require.NoError(t, err)
		l, err := plan.ReadLogits(part[1] - part[0])
		require.NoError(t, err)
		want = append(want, l...)
	}
	got, err := plan.Predict(img)
	require.NoError(t, err)
	require.Len(t, got, 70)
	require.Equal(t, want, got)
	distinct := map[float32]bool{}
	for _, v := range got {
		distinct[v] = true
	}
	require.Greater(t, len(distinct), 60, "logits differ between images and classes")
}

func TestPredictBadInput(t *testing.T) {
	m := tinyAlexNet(t, 0)
	dev := ref.New()
	defer dev.Close()
	plan, err := graph.New(dev, m.Sequential, m.InputShape(2), graph.Config{Seed: 3})
	require.NoError(t, err)
	_, err = plan.Predict(make([]byte, 784+10))
	require.ErrorContains(t, err, "794 image bytes are not a whole, non-zero number of 28x28 images")
	_, err = plan.Predict(nil)
	require.ErrorContains(t, err, "0 image bytes")
	require.NoError(t, plan.Close())
	_, err = plan.Predict(make([]byte, 784))
	require.ErrorContains(t, err, "plan is closed")
}
