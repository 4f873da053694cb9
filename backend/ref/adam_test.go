package ref

import (
	"math"
	"testing"

	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// torchAdam is torch.optim.Adam's single-tensor step written out in float64.
func torchAdam(t int, lr, b1, b2, eps float64, p, g, m, v *float64) {
	*m += (1 - b1) * (*g - *m)
	*v = b2**v + (1-b2)**g**g
	bc1 := 1 - math.Pow(b1, float64(t))
	bc2 := 1 - math.Pow(b2, float64(t))
	*p -= lr / bc1 * *m / (math.Sqrt(*v)/math.Sqrt(bc2) + eps)
}

// Hand-worked element 0 (lr 1e-3, betas 0.9/0.999, eps 1e-8), p = 1:
// step 1, g = 0.5: m = 0.05, v = 2.5e-4, m/bc1 = 0.5, sqrt(v/bc2) = 0.5,
// p = 1 - 1e-3*0.5/(0.5+1e-8) = 0.99900000002.
// step 2, g = -0.25: m = 0.02, v = 3.1225e-4, bc1 = 0.19, bc2 = 0.001999,
// p = 0.99900000002 - (1e-3/0.19)*0.02/(sqrt(3.1225e-4)/sqrt(0.001999) + 1e-8)
// = 0.99873366299.
func TestAdamTwoSteps(t *testing.T) {
	const lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8
	grads := [][]float32{{0.5, -2, 1e-3, 0, 3}, {-0.25, -1, 2e-3, 1, -3}}
	p := []float32{1, -0.5, 0.25, 2, 0}
	m, v := make([]float32, 5), make([]float32, 5)
	var p64, m64, v64 [5]float64
	for i := range p {
		p64[i] = float64(p[i])
	}
	for step, g := range grads {
		require.NoError(t, Run(backend.NewAdam(5, lr, b1, b2, eps, step+1), p, g, m, v))
		for i := range p {
			g64 := float64(g[i])
			torchAdam(step+1, lr, b1, b2, eps, &p64[i], &g64, &m64[i], &v64[i])
		}
		testutil.RequireClose(t, p, p64[:], 2e-7, 1e-6, "p")
		testutil.RequireClose(t, m, m64[:], 1e-9, 1e-6, "m")
		// Beta2 travels as float32 (0.99900001287), so 1-Beta2 is 1.3e-5
		// relatively off torch's 0.001; the bias correction uses the exact
		// value (NewAdam), so p is affected by about 1e-8 only.
		testutil.RequireClose(t, v, v64[:], 1e-12, 2e-5, "v")
		if step == 0 {
			assert.InDelta(t, 0.99900000002, p[0], 1e-7)
		} else {
			assert.InDelta(t, 0.99873366299, p[0], 1e-7)
		}
	}
}
