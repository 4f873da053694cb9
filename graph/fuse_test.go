package graph_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/internal/testutil"
)

// unfusedStepDispatches is a tiny AlexNet's training step without fusion:
// resize; forward: 5 conv, 7 relu, 3 pool, 3x(gemm, bias_add), 2 dropout;
// loss; backward: conv.0 filter only, 4x(data, filter), 7 relu, 3 pool,
// 3x(2 gemm, bias_grad), 2 dropout; 16 adam.
const unfusedStepDispatches = 1 + (5 + 7 + 3 + 6 + 2) + 1 + (1 + 8 + 7 + 3 + 9 + 2) + 16

// winogradExtraDispatches are the dispatches conv_algo winograd adds: the
// 5x5 conv.3 and the three 3x3 convolutions (conv.6, conv.8, conv.10) run
// their forward, their input gradient and their filter gradient as four
// dispatches instead of one.
const winogradExtraDispatches = 3*3 + 3*3 + 3*3 + 3*3

// fusedAwayDispatches are the dispatches fusion leaves out: the forward
// and the backward (relu_bwd) of the seven ReLUs.
const fusedAwayDispatches = 7 + 7

// TestFusionDispatchCount checks that the fusion pass folds the seven
// ReLUs of AlexNet (after the five convolutions and fc.0, fc.3) into the
// layers before them in forward, under implicit GEMM and under Winograd
// (winograd_output's Relu), and in backward: into the bias_grad of fc.0
// and fc.3 (MaskRelu, run before the Linear's products) and into the
// convolutions' products (MaskRelu of conv2d_bwd_filter and of
// conv2d_bwd_data or winograd_input, and of winograd_dy), that NoFuse gives the unfused
// dispatches, and that StepDispatches counts what TrainStep dispatches.
func TestFusionDispatchCount(t *testing.T) {
	for _, algo := range []string{graph.ConvGemm, graph.ConvWinograd} {
		for _, noFuse := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s_nofuse_%v", algo, noFuse), func(t *testing.T) {
				checkFusionDispatches(t, algo, noFuse)
			})
		}
	}
}

func checkFusionDispatches(t *testing.T, algo string, noFuse bool) {
	m := tinyAlexNet(t, 0.5)
	dev := &testutil.CountingDevice{Device: ref.New()}
	plan, err := graph.New(dev, m.Sequential, m.InputShape(2), graph.Config{NoFuse: noFuse, ConvAlgo: algo})
	require.NoError(t, err)
	want := unfusedStepDispatches
	if algo == graph.ConvWinograd {
		want += winogradExtraDispatches
	}
	if !noFuse {
		want -= fusedAwayDispatches
	}
	got, err := plan.StepDispatches()
	require.NoError(t, err)
	assert.Equal(t, want, got, "NoFuse %v", noFuse)

	parts, err := plan.TrainStepParts(1, 2)
	require.NoError(t, err)
	relus := map[string]int{}
	winogradOutputs := 0
	masked := map[string]int{} // kernel -> dispatches with MaskRelu 1
	for _, part := range parts {
		if part.Type == "Linear" && part.Phase == graph.PhaseBackward {
			q, ok := part.Dispatches[0].P.(backend.BiasGrad)
			require.True(t, ok, "%s: bias_grad first", part.Layer)
			mask := uint32(0)
			if !noFuse && part.Layer != "fc.6" {
				mask = 1
			}
			assert.Equal(t, mask, q.MaskRelu, part.Layer)
			assert.Len(t, part.Dispatches[0].Bufs, len(q.Buffers()), part.Layer)
		}
		if part.Type == "ReLU" {
			relus[part.Phase]++
			require.Len(t, part.Dispatches, 1)
			assert.Equal(t, map[string]backend.Kernel{graph.PhaseForward: backend.KReluFwd, graph.PhaseBackward: backend.KReluBwd}[part.Phase], part.Dispatches[0].P.Kernel())
		}
		for _, d := range part.Dispatches {
			require.Len(t, d.Bufs, len(d.P.Buffers()), "%s %s", part.Layer, d.P.Kernel())
			if maskReluOf(d.P) != 0 {
				masked[string(d.P.Kernel())]++
			}
			relu := uint32(0)
			if !noFuse {
				relu = 1
			}
			switch q := d.P.(type) {
			case backend.Conv2DFwd:
				assert.Equal(t, relu, q.Relu, part.Layer)
			case backend.WinogradOutput:
				winogradOutputs++
				if part.Phase == graph.PhaseForward {
					assert.Equal(t, relu, q.Relu, part.Layer)
				} else {
					assert.Zero(t, q.Relu, "%s: the input gradient has no ReLU", part.Layer)
				}
			case backend.BiasAdd:
				if part.Layer != "fc.6" {
					assert.Equal(t, relu, q.Relu, part.Layer)
				} else {
					assert.Zero(t, q.Relu, "the logits have no ReLU")
				}
			}
		}
	}
	if algo == graph.ConvWinograd {
		assert.Equal(t, 8, winogradOutputs, "forward and input gradient of conv.3, conv.6, conv.8, conv.10")
	} else {
		assert.Zero(t, winogradOutputs)
	}
	if noFuse {
		assert.Equal(t, map[string]int{graph.PhaseForward: 7, graph.PhaseBackward: 7}, relus)
	} else {
		assert.Empty(t, relus, "no ReLU pass is left")
	}
	wantMasked := map[string]int{"conv2d_bwd_filter": 5, "conv2d_bwd_data": 4, "bias_grad": 2}
	if algo == graph.ConvWinograd {
		delete(wantMasked, "conv2d_bwd_data")
		wantMasked["winograd_input"] = 4
		wantMasked["conv2d_bwd_filter"], wantMasked["winograd_dy"] = 1, 4
	}
	if noFuse {
		wantMasked = map[string]int{}
	}
	assert.Equal(t, wantMasked, masked, "the dispatches reading dy masked")
	fusedAt := map[int]bool{0: true, 3: true, 6: true, 8: true, 10: true, 14: true, 17: true}
	for i := range 21 {
		assert.Equal(t, !noFuse && fusedAt[i], plan.FusesRelu(i), "layer %d", i)
		assert.Equal(t, !noFuse && fusedAt[i], plan.MasksRelu(i), "layer %d", i)
	}

	img, lab := randomBatch(testutil.NewRNG(1), 2)
	require.NoError(t, plan.Upload(img, lab))
	dev.Dispatches = 0
	_, err = plan.TrainStep(1, 2)
	require.NoError(t, err)
	assert.Equal(t, want, dev.Dispatches)
	require.NoError(t, plan.Close())
	require.NoError(t, dev.Close())
}

// TestFusedStepEqualsUnfused trains a tiny AlexNet for three steps with and
// without fusion on every backend, under implicit GEMM and under Winograd:
// fusion reorders nothing, so the losses, the logits and every parameter
// and Adam moment are equal bit for bit.
func TestFusedStepEqualsUnfused(t *testing.T) {
	for _, name := range []string{"ref", "opencl", "vulkan"} {
		for _, algo := range []string{graph.ConvGemm, graph.ConvWinograd} {
			t.Run(name+"_"+algo, func(t *testing.T) { checkFusedStepEqualsUnfused(t, name, algo) })
		}
	}
}

func checkFusedStepEqualsUnfused(t *testing.T, name, algo string) {
	dev := backendtest.OpenOrSkip(t, func() (backend.Device, error) { return backend.Open(name) })
	defer dev.Close()
	m := tinyAlexNet(t, 0.5)
	plans := make([]*graph.Plan, 2)
	for i, noFuse := range []bool{false, true} {
		p, err := graph.New(dev, m.Sequential, m.InputShape(3), graph.Config{NoFuse: noFuse, ConvAlgo: algo})
		require.NoError(t, err)
		defer p.Close()
		plans[i] = p
	}
	fused, err := plans[0].StepDispatches()
	require.NoError(t, err)
	unfused, err := plans[1].StepDispatches()
	require.NoError(t, err)
	assert.Less(t, fused, unfused)
	rng := testutil.NewRNG(5)
	for step := 1; step <= 3; step++ {
		img, lab := randomBatch(rng, 3)
		var losses [2]float32
		var logits [2][]float32
		for i, p := range plans {
			require.NoError(t, p.Upload(img, lab))
			st, err := p.TrainStep(step, 3)
			require.NoError(t, err)
			losses[i] = st.Loss
			logits[i], err = p.ReadLogits(3)
			require.NoError(t, err)
		}
		assert.Equal(t, math.Float32bits(losses[1]), math.Float32bits(losses[0]), "step %d loss", step)
		assert.Equal(t, bits(logits[1]), bits(logits[0]), "step %d logits", step)
	}
	var params, adams [2][]graph.HostTensor
	for i, p := range plans {
		params[i], err = p.ReadParams()
		require.NoError(t, err)
		a, err := p.ReadAdam()
		require.NoError(t, err)
		adams[i] = append(a.M, a.V...)
	}
	for k := range params[0] {
		assert.Equal(t, bits(params[1][k].Data), bits(params[0][k].Data), params[0][k].Name)
	}
	for k := range adams[0] {
		assert.Equal(t, bits(adams[1][k].Data), bits(adams[0][k].Data), adams[0][k].Name)
	}
}

func bits(x []float32) []uint32 {
	out := make([]uint32, len(x))
	for i, v := range x {
		out[i] = math.Float32bits(v)
	}
	return out
}

// maskReluOf is the MaskRelu flag of p, 0 for kernels without one.
func maskReluOf(p backend.Params) uint32 {
	if m, ok := p.(backend.ReluMasker); ok && m.ReluMasked() {
		return 1
	}
	return 0
}

// cpuRef is the reference backend presenting itself as a CPU device.
type cpuRef struct{ backend.Device }

func (d cpuRef) Info() backend.Info {
	i := d.Device.Info()
	i.Type = backend.CPUDevice
	return i
}

// TestCPUMasksReluNeverIntoConv: on a CPU device no Conv2d folds the
// ReLU's backward, under either algorithm (its ReLUs keep their relu_bwd
// pass); Linear always folds it and the forward fusion is unchanged.
func TestCPUMasksReluNeverIntoConv(t *testing.T) {
	m := tinyAlexNet(t, 0.5)
	dev := cpuRef{ref.New()}
	defer dev.Close()
	for _, algo := range []string{graph.ConvGemm, graph.ConvWinograd} {
		plan, err := graph.New(dev, m.Sequential, m.InputShape(2), graph.Config{ConvAlgo: algo})
		require.NoError(t, err)
		masked := map[int]bool{14: true, 17: true}
		for _, i := range []int{0, 3, 6, 8, 10, 14, 17} {
			assert.True(t, plan.FusesRelu(i), "%s: layer %d forward", algo, i)
			assert.Equal(t, masked[i], plan.MasksRelu(i), "%s: layer %d backward", algo, i)
		}
		parts, err := plan.TrainStepParts(1, 2)
		require.NoError(t, err)
		var bwdRelus []string
		for _, part := range parts {
			if part.Type == "ReLU" {
				require.Equal(t, graph.PhaseBackward, part.Phase, part.Layer)
				bwdRelus = append(bwdRelus, part.Layer)
			}
		}
		assert.Equal(t, []string{"conv.11", "conv.9", "conv.7", "conv.4", "conv.1"}, bwdRelus, algo)
		require.NoError(t, plan.Close())
	}
}
