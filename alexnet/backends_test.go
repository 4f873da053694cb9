package alexnet_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "github.com/crossgrad/crossgrad/backend/opencl"
	_ "github.com/crossgrad/crossgrad/backend/vulkan"
)

// gpuBackends are the backends compared with the reference. Each test skips
// a backend only when its driver is absent and CI != "true".
var gpuBackends = []string{"opencl", "vulkan"}

func openBackend(t *testing.T, name string) backend.Device {
	t.Helper()
	return backendtest.OpenOrSkip(t, func() (backend.Device, error) { return backend.Open(name) })
}

// Tolerances of one training step of the tiny AlexNet on a GPU backend
// against the reference (float32 with another summation order; dropout
// masks are exact and resizing gives the same uint8 levels):
//
//	resized input:  |d| <= 1e-6 (a level is 1/255)
//	loss:           |d| <= 2e-5 * |loss|
//	gradients:      |d| <= 2e-5 * max|g of that tensor| + 2e-4 * |g|
//	updated params: |d| <= 1e-7 + 2e-6 * |p|
//
// The Adam state is loaded with v > 0 and t = 7 so that the update is a
// smooth function of the gradient (at t = 1 it is lr*sign(g), which flips
// for gradients near zero).
const (
	stepLossRtol  = 2e-5
	stepGradScale = 2e-5
	stepGradRtol  = 2e-4
	stepParamAtol = 1e-7
	stepParamRtol = 2e-6
)

// stepResult is what one training step produced on one device.
type stepResult struct {
	stats   graph.Stats
	resized []float32
	logits  []float32
	grads   []graph.HostTensor
	params  []graph.HostTensor
}

// oneStep runs training step 7 (dropout 0.5) of the tiny AlexNet on dev from
// the weights and Adam state the reference plan starts with, on 4 images of
// a plan of batch 5 (a partial batch).
func oneStep(t *testing.T, dev backend.Device, params []graph.HostTensor, adam graph.AdamState) stepResult {
	t.Helper()
	m := tinyModel(t, 0.5)
	plan, err := graph.New(dev, m.Sequential, m.InputShape(5), graph.Config{Seed: 3})
	require.NoError(t, err)
	defer func() { require.NoError(t, plan.Close()) }()
	if params != nil {
		require.NoError(t, plan.LoadParams(params))
		require.NoError(t, plan.LoadAdam(adam))
	}
	img, lab := batch(9, 4)
	require.NoError(t, plan.Upload(img, lab))
	var res stepResult
	res.stats, err = plan.TrainStep(7, 4)
	require.NoError(t, err)
	rs, err := plan.ReadTensors([]graph.NamedTensor{plan.Resized()})
	require.NoError(t, err)
	res.resized = rs[0].Data[:4*65*65]
	res.logits, err = plan.ReadLogits(4)
	require.NoError(t, err)
	res.grads, err = plan.ReadTensors(plan.Grads())
	require.NoError(t, err)
	res.params, err = plan.ReadParams()
	require.NoError(t, err)
	return res
}

// referenceStart is the common starting point: the seed-3 weights and an
// Adam state with m in +-1e-3, v in [1e-6, 2e-6], after step 6.
func referenceStart(t *testing.T) ([]graph.HostTensor, graph.AdamState) {
	dev := ref.New()
	defer dev.Close()
	m := tinyModel(t, 0.5)
	plan, err := graph.New(dev, m.Sequential, m.InputShape(5), graph.Config{Seed: 3})
	require.NoError(t, err)
	defer plan.Close()
	params, err := plan.ReadParams()
	require.NoError(t, err)
	adam, err := plan.ReadAdam()
	require.NoError(t, err)
	for i := range adam.M {
		for j := range adam.M[i].Data {
			x := float64((i*7919 + j*104729) % 1000)
			adam.M[i].Data[j] = float32(1e-3 * (x/500 - 1))
			adam.V[i].Data[j] = float32(1e-6 * (1 + x/1000))
		}
	}
	adam.Step = 6
	return params, adam
}

// TestTrainStepAcrossBackends checks that one training step from the same
// weights, Adam state and batch gives the same loss, gradients and updated
// parameters on the reference and on each GPU backend.
func TestTrainStepAcrossBackends(t *testing.T) {
	params, adam := referenceStart(t)
	rdev := ref.New()
	defer rdev.Close()
	want := oneStep(t, rdev, params, adam)
	for _, name := range gpuBackends {
		t.Run(name, func(t *testing.T) {
			dev := openBackend(t, name)
			defer func() { require.NoError(t, dev.Close()) }()
			t.Logf("device: %s", dev.Info())
			got := oneStep(t, dev, params, adam)
			// Same uint8 levels; the final /255 may differ by an ulp.
			within(t, got.resized, want.resized, 1e-6, 0, "resized input")
			assert.Equal(t, want.stats.Correct, got.stats.Correct)
			assert.InDelta(t, want.stats.Loss, got.stats.Loss, stepLossRtol*math.Abs(float64(want.stats.Loss)), "loss")
			worst := 0.0
			for i, g := range want.grads {
				scale := 0.0
				for _, v := range g.Data {
					scale = math.Max(scale, math.Abs(float64(v)))
				}
				worst = math.Max(worst, within(t, got.grads[i].Data, g.Data, stepGradScale*scale, stepGradRtol, g.Name))
			}
			pw := 0.0
			for i, p := range want.params {
				pw = math.Max(pw, within(t, got.params[i].Data, p.Data, stepParamAtol, stepParamRtol, p.Name))
			}
			t.Logf("%s vs ref: loss %.7f vs %.7f; worst gradient error %.3g and parameter error %.3g of tolerance",
				name, got.stats.Loss, want.stats.Loss, worst, pw)
		})
	}
}

// within asserts |got-want| <= atol + rtol*|want| element-wise and returns
// the largest ratio of error to tolerance.
func within(t *testing.T, got, want []float32, atol, rtol float64, what string) float64 {
	t.Helper()
	require.Len(t, got, len(want), what)
	worst, at := 0.0, 0
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		tol := atol + rtol*math.Abs(float64(want[i]))
		r := d / tol
		if math.IsNaN(d) {
			r = math.Inf(1)
		}
		if r > worst {
			worst, at = r, i
		}
	}
	assert.LessOrEqual(t, worst, 1.0, "%s", fmt.Sprintf("%s[%d] = %g, want %g", what, at, got[at], want[at]))
	return worst
}

// TestOverfitBackends overfits one batch on each GPU backend, as
// TestOverfitRef does on the reference.
func TestOverfitBackends(t *testing.T) {
	for _, name := range gpuBackends {
		t.Run(name, func(t *testing.T) {
			dev := openBackend(t, name)
			defer func() { require.NoError(t, dev.Close()) }()
			overfit(t, dev)
			if c, ok := dev.(backend.BufferCounter); ok {
				assert.Zero(t, c.LiveBuffers())
			}
		})
	}
}
