package ref

import (
	"math"
	"testing"

	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// Hand-worked 2x3 example. Row 0: logits (1,2,3), label 2:
// lse = 3 + log(1 + e^-1 + e^-2) = 3.4076059644, loss 0.4076059644,
// softmax (0.0900305732, 0.2447284711, 0.6652409558), argmax 2 = label.
// Row 1: logits (1,1,1), label 1: loss log 3 = 1.0986122887, softmax 1/3
// each, first max at 0 != label. Mean loss 0.7531091266, 1 correct.
func TestSoftmaxXentHandWorked(t *testing.T) {
	logits := []float32{1, 2, 3, 1, 1, 1}
	labels := []float32{2, 1}
	d, stats := testutil.NaNSlice(6), testutil.NaNSlice(2)
	require.NoError(t, Run(backend.SoftmaxXent{N: 2, C: 3}, logits, labels, d, stats))
	testutil.RequireClose(t, stats, []float64{0.7531091266, 1}, 1e-7, 1e-7, "stats")
	third := 1.0 / 3
	testutil.RequireClose(t, d, []float64{
		0.0900305732 / 2, 0.2447284711 / 2, (0.6652409558 - 1) / 2,
		third / 2, (third - 1) / 2, third / 2,
	}, 1e-7, 1e-6, "dlogits")
}

// Large logits do not overflow (max subtraction).
func TestSoftmaxXentLargeLogits(t *testing.T) {
	logits := []float32{1000, 0, -1000, 1000}
	d, stats := testutil.NaNSlice(4), testutil.NaNSlice(2)
	require.NoError(t, Run(backend.SoftmaxXent{N: 2, C: 2}, logits, []float32{0, 0}, d, stats))
	testutil.RequireClose(t, stats, []float64{(0 + 2000) / 2.0, 1}, 1e-3, 1e-6, "stats")
	testutil.RequireClose(t, d, []float64{0, 0, -0.5, 0.5}, 1e-7, 1e-6, "dlogits")
}

// dlogits is checked against central differences of the mean loss
// stats[0] (float32) with h = 3e-3: truncation error O(h^2) ~ 1e-6 and
// rounding error ~ 1e-7/h ~ 5e-5; tolerance atol 3e-4, rtol 1e-3.
func TestSoftmaxXentGradientFiniteDifferences(t *testing.T) {
	const n, c = 5, 7
	r := testutil.NewRNG(30)
	logits := testutil.RandSlice(r, n*c)
	for i := range logits {
		logits[i] *= 3
	}
	labels := make([]float32, n)
	for i := range labels {
		labels[i] = float32(r.IntN(c))
	}
	d, stats := testutil.NaNSlice(n*c), testutil.NaNSlice(2)
	scratch := make([]float32, n*c)
	loss := func() float64 {
		SoftmaxXent(backend.SoftmaxXent{N: n, C: c}, logits, labels, scratch, stats)
		return float64(stats[0])
	}
	require.NoError(t, Run(backend.SoftmaxXent{N: n, C: c}, logits, labels, d, stats))
	testutil.RequireClose(t, d, testutil.FiniteDiff(logits, 3e-3, loss), 3e-4, 1e-3, "dlogits")
	// Gradient rows sum to zero.
	for row := range n {
		var s float64
		for j := range c {
			s += float64(d[row*c+j])
		}
		assert.InDelta(t, 0, s, 1e-7)
	}
}

func TestSoftmaxXentBadLabel(t *testing.T) {
	d, stats := testutil.NaNSlice(4), testutil.NaNSlice(2)
	require.NoError(t, Run(backend.SoftmaxXent{N: 2, C: 2}, []float32{0, 1, 1, 0}, []float32{1, 7}, d, stats))
	assert.True(t, math.IsNaN(float64(stats[0])))
	assert.Equal(t, float32(1), stats[1])
}
