package train

import (
	"bytes"
	"context"
	"math"
	"os"
	"testing"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/data"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "github.com/crossgrad/crossgrad/backend/opencl"
	_ "github.com/crossgrad/crossgrad/backend/vulkan"
)

// needBackend skips the test when spec selects no device, unless CI is
// "true" (CI must have PoCL and lavapipe).
func needBackend(t *testing.T, spec string) {
	t.Helper()
	if _, err := backend.Select(spec); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is unavailable: %v", spec, err)
		}
		t.Skipf("%s unavailable: %v", spec, err)
	}
}

// runSets trains c on the given sets.
func runSets(t *testing.T, ctx context.Context, c config.Config, o Options, trainSet, testSet *data.Set) (*Result, error) {
	t.Helper()
	var out bytes.Buffer
	o.Config, o.Out, o.TrainSet, o.TestSet = c, &out, trainSet, testSet
	return Run(ctx, o)
}

// sameBits fails unless a and b hold bit-identical tensors.
func sameBits(t *testing.T, what string, a, b []checkpoint.Tensor) {
	t.Helper()
	require.Len(t, b, len(a), what)
	for i := range a {
		require.Equal(t, a[i].Name, b[i].Name, what)
		require.Equal(t, a[i].Shape, b[i].Shape, what)
		for j := range a[i].Data {
			if math.Float32bits(a[i].Data[j]) != math.Float32bits(b[i].Data[j]) {
				t.Fatalf("%s %s[%d]: %v uninterrupted, %v resumed", what, a[i].Name, j, a[i].Data[j], b[i].Data[j])
			}
		}
	}
}

// checkExactResume trains 12 steps of batch 4 (2 epochs of 6) of the tiny
// model at width w uninterrupted, then the same run stopped after step 4
// (mid-epoch: data order, dropout step and Adam state must all be
// restored) and resumed to the end, and requires bit-identical parameters,
// Adam moments and per-step losses.
func checkExactResume(t *testing.T, spec string, w float64) {
	trainSet, testSet := synthSet(1, 24), synthSet(2, 8)
	cfg := func() config.Config {
		c := tinyConfig(t)
		c.Backend, c.BatchSize, c.Width = []string{spec}, 4, w
		require.NoError(t, c.Validate())
		return c
	}
	full := cfg()
	res, err := runSets(t, context.Background(), full, Options{}, trainSet, testSet)
	require.NoError(t, err)
	require.Equal(t, 12, res.Step)
	require.Contains(t, res.Device, "("+spec+":")

	part := cfg()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = runSets(t, ctx, part, Options{BeforeStep: func(step int, _ *graph.Plan) error {
		if step == 4 {
			cancel()
		}
		return nil
	}}, trainSet, testSet)
	var ie *InterruptedError
	require.ErrorAs(t, err, &ie)
	require.Equal(t, 4, ie.Step)
	part.Resume = part.CheckpointDir
	res2, err := runSets(t, context.Background(), part, Options{}, trainSet, testSet)
	require.NoError(t, err)
	require.Equal(t, 12, res2.Step)

	p1, _, s1, err := checkpoint.LoadCheckpoint(res.Checkpoint)
	require.NoError(t, err)
	p2, _, s2, err := checkpoint.LoadCheckpoint(res2.Checkpoint)
	require.NoError(t, err)
	sameBits(t, "parameter", p1, p2)
	sameBits(t, "adam m", s1.M, s2.M)
	sameBits(t, "adam v", s1.V, s2.V)
	assert.Equal(t, s1.Step, s2.Step)

	st1, ep1 := readJSONL(t, full.MetricsJSONL)
	st2, ep2 := readJSONL(t, part.MetricsJSONL)
	require.Len(t, st2, len(st1))
	for i := range st1 {
		assert.Equal(t, st1[i].Step, st2[i].Step)
		assert.Equal(t, math.Float64bits(st1[i].Loss), math.Float64bits(st2[i].Loss), "loss of step %d", i+1)
		assert.Equal(t, st1[i].Correct, st2[i].Correct, "correct of step %d", i+1)
	}
	require.Len(t, ep2, len(ep1))
	for i := range ep1 {
		assert.Equal(t, ep1[i].Loss, ep2[i].Loss)
		assert.Equal(t, ep1[i].TestAcc, ep2[i].TestAcc)
	}
}

func TestExactResumeRef(t *testing.T) {
	heavyOnRef(t)
	checkExactResume(t, "ref", 1.0/16)
}

func TestExactResumeOpenCL(t *testing.T) {
	needBackend(t, "opencl")
	checkExactResume(t, "opencl", 1.0/16)
}

// exactWidthVulkan is the width of the Vulkan resume check: lavapipe's
// time goes into the shaders, and at width 1/64 they are the same kernels
// and passes (split conv2d_bwd_filter with its reduce pass) as at 1/16 in
// half the time. PoCL would drop its tiled conv2d_bwd_data at 1/64.
const exactWidthVulkan = 1.0 / 64

func TestExactResumeVulkan(t *testing.T) {
	needBackend(t, "vulkan")
	checkExactResume(t, "vulkan", exactWidthVulkan)
}
