package graph_test

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/layers"
	"github.com/crossgrad/crossgrad/layers/layertest"
)

func stateValues(t *testing.T, p *graph.Plan) []float32 {
	t.Helper()
	st, err := p.ReadState()
	require.NoError(t, err)
	require.Len(t, st, 1)
	require.Equal(t, "track.0.last_step", st[0].Name)
	return st[0].Data
}

// TestLayerState checks the buffer kind for non-trained state: the plan
// allocates a layer's declared state under its state_dict name, fills it
// with its initial value, hands it to the layer (a training step writes it,
// evaluation does not), moves it with ReadState/LoadState and, with the
// parameters in state_dict order, ReadStateDict/LoadStateDict, strictly;
// NonFinite and the memory report include it.
func TestLayerState(t *testing.T) {
	m := layertest.TrackedModel()
	require.Equal(t, []layers.NamedState{{Name: "track.0.last_step", Layer: 0,
		StateSpec: layers.StateSpec{Suffix: "last_step", Shape: []int{2}, Init: -1}}}, m.State())
	dev := ref.New()
	defer dev.Close()
	cfg := graph.Config{Seed: 5, Input: graph.ResizeInput{SrcH: 4, SrcW: 4}}
	a, err := graph.New(dev, m, layers.Shape{3, 1, 4, 4}, cfg)
	require.NoError(t, err)
	defer a.Close()
	spec, ok := a.Layout().Lookup("track.0.last_step")
	require.True(t, ok)
	assert.Equal(t, graph.BufferSpec{Name: "track.0.last_step", Kind: graph.KindState, Elems: 2}, spec)
	assert.Equal(t, []float32{-1, -1}, stateValues(t, a), "initial value")

	img, lab := make([]byte, 3*16), []int{0, 1, 2}
	for i := range img {
		img[i] = byte(i * 5)
	}
	require.NoError(t, a.Upload(img, lab))
	_, err = a.TrainStep(7, 3)
	require.NoError(t, err)
	assert.Equal(t, []float32{7, 7}, stateValues(t, a), "the training pass writes the state")
	_, err = a.EvalStep(3)
	require.NoError(t, err)
	assert.Equal(t, []float32{7, 7}, stateValues(t, a), "evaluation leaves it")

	sd, err := a.ReadStateDict()
	require.NoError(t, err)
	var sdNames []string
	for _, h := range sd {
		sdNames = append(sdNames, h.Name)
	}
	assert.Equal(t, []string{"track.0.last_step", "fc.0.weight", "fc.0.bias"}, sdNames, "layer by layer")

	b, err := graph.New(dev, m, layers.Shape{3, 1, 4, 4}, graph.Config{Seed: 6, Input: graph.ResizeInput{SrcH: 4, SrcW: 4}})
	require.NoError(t, err)
	defer b.Close()
	require.ErrorContains(t, b.LoadParams(sd), `unknown parameter "track.0.last_step"`)
	require.NoError(t, b.LoadStateDict(sd))
	assert.Equal(t, []float32{7, 7}, stateValues(t, b))
	pa, err := a.ReadParams()
	require.NoError(t, err)
	pb, err := b.ReadParams()
	require.NoError(t, err)
	assert.Equal(t, pa, pb)
	require.ErrorContains(t, b.LoadStateDict(sd[1:]), `parameter or state tensor "track.0.last_step" missing`)

	st, err := a.ReadState()
	require.NoError(t, err)
	st[0].Data = []float32{3, float32(math.NaN())}
	require.NoError(t, a.LoadState(st))
	assert.Equal(t, float32(3), stateValues(t, a)[0])
	bad, err := a.NonFinite()
	require.NoError(t, err)
	assert.Equal(t, []graph.NonFiniteTensor{{Name: "track.0.last_step", Count: 1, Elems: 2}}, bad)
	require.ErrorContains(t, a.LoadState(nil), `state tensor "track.0.last_step" missing`)
	require.ErrorContains(t, a.LoadState([]graph.HostTensor{{Name: "track.0.last_step", Shape: []int{3}, Data: make([]float32, 3)}}),
		"track.0.last_step: shape [3]")
	require.ErrorContains(t, a.LoadState(append(st, graph.HostTensor{Name: "fc.0.weight"})), `unknown state tensor "fc.0.weight"`)

	var rep strings.Builder
	require.NoError(t, a.Layout().Report(&rep))
	assert.Contains(t, rep.String(), "total state")
	assert.Equal(t, uint64(4*(16*3+3)*4+4*2), a.Layout().FixedBytes(), "params, grads, m, v and state")
}

// TestBufferNamesUnique checks that a state tensor whose name another
// buffer already has is refused at planning.
func TestBufferNamesUnique(t *testing.T) {
	tr := &layertest.StepTracker{Suffix: "fc.0"}
	tr.SetName("act")
	m := layers.NewSequential().Add("", tr).Add("", layers.NewFlatten()).Add("fc", layers.NewLinear(16, 3))
	_, err := graph.NewLayout(m, layers.Shape{2, 1, 4, 4}, graph.Config{})
	require.ErrorContains(t, err, `two buffers named "act.fc.0"`)
}

// TestTensorByName looks every planned buffer up by its name: names are
// unique, Tensor returns the very buffer Params, Grads and Resized return,
// with the tensor's shape, and an unknown name is an error naming it.
func TestTensorByName(t *testing.T) {
	m := tinyAlexNet(t, 0.5)
	dev := ref.New()
	defer dev.Close()
	plan, err := graph.New(dev, m.Sequential, m.InputShape(2), graph.Config{})
	require.NoError(t, err)
	defer plan.Close()
	lo := plan.Layout()
	seen := map[string]bool{}
	bufs := map[backend.Buffer]bool{}
	for _, spec := range lo.Buffers {
		require.False(t, seen[spec.Name], "duplicate name %s", spec.Name)
		seen[spec.Name] = true
		got, ok := lo.Lookup(spec.Name)
		require.True(t, ok, spec.Name)
		assert.Equal(t, spec, got)
		tn, err := plan.Tensor(spec.Name)
		require.NoError(t, err)
		assert.Equal(t, spec.Elems, tn.Buffer.Len(), spec.Name)
		assert.Equal(t, spec.Elems, layers.Shape(tn.Shape).Elems(), spec.Name)
		bufs[tn.Buffer] = true
	}
	assert.Len(t, bufs, len(lo.Buffers), "one distinct buffer per name")
	for _, nt := range append(append(plan.Params(), plan.Grads()...), plan.Resized()) {
		tn, err := plan.Tensor(nt.Name)
		require.NoError(t, err)
		assert.Equal(t, nt, tn)
	}
	conv0, err := plan.Tensor("act.conv.0")
	require.NoError(t, err)
	assert.Equal(t, []int{2, 6, 15, 15}, conv0.Shape)
	m4, err := plan.Tensor("fc.6.bias.adam_m")
	require.NoError(t, err)
	assert.Equal(t, []int{10}, m4.Shape)
	_, err = plan.Tensor("act.conv.1")
	require.ErrorContains(t, err, `no buffer named "act.conv.1"`)
	require.NoError(t, plan.Close())
	_, err = plan.Tensor("act.conv.0")
	require.ErrorContains(t, err, "closed")
}
