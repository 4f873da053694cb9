package graph_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/crossgrad/crossgrad/layers"
)

// TestInputStoredSize plans the input stage for stored images of 20x30
// (not 28x28): the packed buffer, Upload and Predict take 600-byte images
// and the device resize reads them at that size.
func TestInputStoredSize(t *testing.T) {
	m := tinyAlexNet(t, 0)
	dev := ref.New()
	defer dev.Close()
	in := graph.ResizeInput{SrcH: 20, SrcW: 30}
	plan, err := graph.New(dev, m.Sequential, m.InputShape(3), graph.Config{Input: in})
	require.NoError(t, err)
	defer plan.Close()
	spec, ok := plan.Layout().Lookup("input.packed")
	require.True(t, ok)
	assert.Equal(t, (3*600+3)/4, spec.Elems)

	r := testutil.NewRNG(6)
	img := make([]byte, 2*600)
	for i := range img {
		img[i] = byte(r.IntN(256))
	}
	require.ErrorContains(t, plan.Upload(make([]byte, 2*784), []int{1, 2}), "1568 image bytes for 2 images of 20x30")
	require.NoError(t, plan.Upload(img, []int{1, 2}))
	_, err = plan.EvalStep(2)
	require.NoError(t, err)
	res, err := plan.ReadTensors([]graph.NamedTensor{plan.Resized()})
	require.NoError(t, err)
	want := make([]float32, 2*65*65)
	ref.ResizeBilinear(backend.ResizeBilinear{N: 2, InH: 20, InW: 30, OutH: 65, OutW: 65, Packed: 1}, backend.PackBytes(img), want)
	assert.Equal(t, want, res[0].Data[:len(want)])

	_, err = plan.Predict(make([]byte, 784))
	require.ErrorContains(t, err, "784 image bytes are not a whole, non-zero number of 20x30 images")
	logits, err := plan.Predict(img)
	require.NoError(t, err)
	assert.Len(t, logits, 2*10)

	parts, err := plan.TrainStepParts(1, 2)
	require.NoError(t, err)
	assert.Equal(t, graph.Part{Layer: "input", Type: "Resize", Phase: graph.PhaseForward,
		Dispatches: []layers.Dispatch{{P: backend.ResizeBilinear{N: 2, InH: 20, InW: 30, OutH: 65, OutW: 65, Packed: 1},
			Bufs: []backend.Buffer{plan.Input(), plan.Resized().Buffer}}}}, parts[0])
	_, err = graph.NewLayout(m.Sequential, m.InputShape(3), graph.Config{Input: graph.ResizeInput{SrcH: 0, SrcW: 28}})
	require.ErrorContains(t, err, "source image size 0x28 must be positive")
}

// sgd is a test-only Optimizer without slots: param -= LR * grad (axpy).
type sgd struct{ LR float32 }

func (sgd) Type() string        { return "SGD" }
func (sgd) Slots() []graph.Slot { return nil }
func (o sgd) Update(_, elems int, param, grad backend.Buffer, _ []backend.Buffer) []layers.Dispatch {
	return []layers.Dispatch{{P: backend.Axpy{N: uint32(elems), Alpha: -o.LR}, Bufs: []backend.Buffer{grad, param}}}
}

// TestPluggedOptimizer trains with another optimizer through the Optimizer
// interface: the plan allocates no Adam state, the update parts are the
// optimizer's, the parameters move by -LR*grad, and the Adam accessors say
// there is no Adam state.
func TestPluggedOptimizer(t *testing.T) {
	m := tinyAlexNet(t, 0)
	dev := ref.New()
	defer dev.Close()
	plan, err := graph.New(dev, m.Sequential, m.InputShape(2), graph.Config{Optimizer: sgd{LR: 0.5}})
	require.NoError(t, err)
	defer plan.Close()
	kinds := plan.Layout().BytesByKind()
	assert.Zero(t, kinds[graph.KindAdamM]+kinds[graph.KindAdamV])
	assert.Equal(t, kinds[graph.KindParam], kinds[graph.KindParamGrad])
	assert.Equal(t, 2*kinds[graph.KindParam], plan.Layout().FixedBytes())

	before, err := plan.ReadParams()
	require.NoError(t, err)
	img, lab := randomBatch(testutil.NewRNG(9), 2)
	require.NoError(t, plan.Upload(img, lab))
	parts, err := plan.TrainStepParts(1, 2)
	require.NoError(t, err)
	for _, p := range parts {
		if p.Phase == graph.PhaseUpdate {
			for _, d := range p.Dispatches {
				assert.Equal(t, backend.KAxpy, d.P.Kernel(), p.Layer)
			}
		}
	}
	_, err = plan.TrainStep(1, 2)
	require.NoError(t, err)
	grads, err := plan.ReadTensors(plan.Grads())
	require.NoError(t, err)
	after, err := plan.ReadParams()
	require.NoError(t, err)
	moved := 0
	for i := range after {
		for j, v := range after[i].Data {
			w := float64(before[i].Data[j]) - 0.5*float64(grads[i].Data[j])
			require.InDelta(t, w, float64(v), 1e-6, "%s[%d]", after[i].Name, j)
			if v != before[i].Data[j] {
				moved++
			}
		}
	}
	assert.Greater(t, moved, 1000)
	_, err = plan.ReadAdam()
	require.ErrorContains(t, err, "the optimizer SGD keeps no Adam moments")
	bad, err := plan.NonFinite()
	require.NoError(t, err)
	assert.Empty(t, bad)
}

// TestEvalPartsAreTrainForward checks that evaluation and training share
// one forward definition: EvalParts is the forward phase of TrainStepParts,
// dispatch for dispatch over the same buffers, except that dropout copies
// (p = 0) in evaluation; dispatching it then ReadStats is EvalStep.
func TestEvalPartsAreTrainForward(t *testing.T) {
	m := tinyAlexNet(t, 0.5)
	dev := ref.New()
	defer dev.Close()
	plan, err := graph.New(dev, m.Sequential, m.InputShape(4), graph.Config{Seed: 2})
	require.NoError(t, err)
	defer plan.Close()
	img, lab := randomBatch(testutil.NewRNG(4), 3)
	require.NoError(t, plan.Upload(img, lab))
	eval, err := plan.EvalParts(3)
	require.NoError(t, err)
	train, err := plan.TrainStepParts(9, 3)
	require.NoError(t, err)
	var fwd []graph.Part
	for _, p := range train {
		if p.Phase == graph.PhaseForward {
			fwd = append(fwd, p)
		}
	}
	require.Len(t, eval, len(fwd))
	dropouts := 0
	for i, e := range eval {
		f := fwd[i]
		require.Equal(t, [3]string{f.Layer, f.Type, f.Phase}, [3]string{e.Layer, e.Type, e.Phase})
		require.Len(t, e.Dispatches, len(f.Dispatches), e.Layer)
		for j, d := range e.Dispatches {
			want := f.Dispatches[j].P
			if dp, ok := want.(backend.DropoutFwd); ok {
				dp.P, dp.Scale, dp.Step = 0, 1, 0
				want = dp
				dropouts++
			}
			assert.Equal(t, want, d.P, e.Layer)
			require.Len(t, d.Bufs, len(f.Dispatches[j].Bufs))
			for k, b := range d.Bufs {
				assert.True(t, b == f.Dispatches[j].Bufs[k], "%s dispatch %d buffer %d", e.Layer, j, k)
			}
		}
	}
	assert.Equal(t, 2, dropouts)
	assert.Equal(t, "loss", eval[len(eval)-1].Layer)
	assert.Equal(t, "CrossEntropyLoss", eval[len(eval)-1].Type)

	want, err := plan.EvalStep(3)
	require.NoError(t, err)
	for _, p := range eval {
		require.NoError(t, layers.Run(dev, p.Dispatches))
	}
	got, err := plan.ReadStats(3)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	_, err = plan.EvalParts(5)
	require.ErrorContains(t, err, "the plan takes 1 to 4")
}
