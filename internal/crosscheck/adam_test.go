package crosscheck

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	_ "github.com/crossgrad/crossgrad/backend/opencl"
	_ "github.com/crossgrad/crossgrad/backend/ref"
	_ "github.com/crossgrad/crossgrad/backend/vulkan"
	"github.com/crossgrad/crossgrad/internal/testutil"
)

// adamN is odd so that no vector width or work-group size divides it.
const adamN = 100003

// adamSteps are the optimizer steps t applied in turn, each with its own
// gradient (t = 50 gives bias corrections far from step 1's).
var adamSteps = []int{1, 2, 3, 50}

// mixed returns n values of sign s and magnitude 10^e, e uniform in
// [lo, hi], with a few exact zeros; lo below -38 gives subnormals.
func mixed(r *rand.Rand, n int, lo, hi float64, signed bool) []float32 {
	out := make([]float32, n)
	for i := range out {
		if r.IntN(50) == 0 {
			continue
		}
		v := math.Pow(10, lo+(hi-lo)*r.Float64())
		if signed && r.IntN(2) == 0 {
			v = -v
		}
		out[i] = float32(v)
	}
	return out
}

// adamState is param, m and v after one step.
type adamState [3][]float32

// runAdam applies adamSteps on dev from the same start (param, m, v) with
// the same gradients and returns the state after every step.
func runAdam(t *testing.T, dev backend.Device, param, m, v []float32, grads [][]float32) []adamState {
	t.Helper()
	bufs := make([]backend.Buffer, 4)
	for i := range bufs {
		b, err := dev.Alloc(adamN)
		require.NoError(t, err)
		defer b.Release()
		bufs[i] = b
	}
	for i, x := range [][]float32{param, nil, m, v} {
		if x != nil {
			require.NoError(t, dev.Write(bufs[i], 0, x))
		}
	}
	var out []adamState
	for k, step := range adamSteps {
		require.NoError(t, dev.Write(bufs[1], 0, grads[k]))
		require.NoError(t, dev.Dispatch(backend.NewAdam(adamN, 1e-3, 0.9, 0.999, 1e-8, step), bufs...))
		var s adamState
		for j, b := range []backend.Buffer{bufs[0], bufs[2], bufs[3]} {
			s[j] = make([]float32, adamN)
			require.NoError(t, dev.Read(b, 0, s[j]))
		}
		out = append(out, s)
	}
	return out
}

// TestAdamBitIdenticalAcrossBackends: the same Adam steps on inputs of mixed
// magnitude (parameters 1e-6..10, gradients 1e-25..10 so that g*g
// underflows to subnormals and zero, moments v from subnormal 1e-44 to 1)
// give bit-identical parameters and moments on ref, PoCL and lavapipe.
func TestAdamBitIdenticalAcrossBackends(t *testing.T) {
	r := testutil.NewRNG(12)
	param := mixed(r, adamN, -6, 1, true)
	m := mixed(r, adamN, -30, -1, true)
	v := mixed(r, adamN, -44, 0, false)
	grads := make([][]float32, len(adamSteps))
	for k := range grads {
		grads[k] = mixed(r, adamN, -25, 1, true)
	}
	ref, err := backend.Open("ref")
	require.NoError(t, err)
	want := runAdam(t, ref, param, m, v, grads)
	require.NoError(t, ref.Close())
	changed := 0
	for i := range param {
		if want[0][0][i] != param[i] {
			changed++
		}
	}
	require.Greater(t, changed, adamN/2, "the first step must move most parameters")
	subnormal := 0
	for _, x := range want[len(want)-1][2] {
		if x != 0 && x < 0x1p-126 {
			subnormal++
		}
	}
	require.Greater(t, subnormal, 100, "the last step's v must hold subnormals")

	for _, name := range []string{"opencl", "vulkan"} {
		t.Run(name, func(t *testing.T) {
			dev := backendtest.OpenOrSkip(t, func() (backend.Device, error) { return backend.Open(name) })
			defer dev.Close()
			got := runAdam(t, dev, param, m, v, grads)
			for k, step := range adamSteps {
				for j, what := range []string{"param", "m", "v"} {
					requireSameBits(t, got[k][j], want[k][j], param, grads[k], what, step)
				}
			}
		})
	}
}

// requireSameBits fails at the first element whose bits differ between got
// and the reference want, naming its inputs.
func requireSameBits(t *testing.T, got, want, param, g []float32, what string, step int) {
	t.Helper()
	diff, first := 0, -1
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			if first < 0 {
				first = i
			}
			diff++
		}
	}
	if first >= 0 {
		require.Failf(t, "not bit-identical with ref",
			"step %d %s: %d of %d elements differ; first at %d: got %g (%#08x), ref %g (%#08x); start param %g, g %g",
			step, what, diff, len(want), first, got[first], math.Float32bits(got[first]),
			want[first], math.Float32bits(want[first]), param[first], g[first])
	}
}
