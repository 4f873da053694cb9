package graph_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/graph/hostref"
	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrainStepMatchesHost runs one training step of a tiny AlexNet on the
// reference device (batch 4 planned, 3 images used) and checks against a
// plain-Go float64 computation: the loss and correct count, the gradient of
// every parameter by central finite differences (a few elements each plus a
// random direction over all of them), and the Adam update.
func TestTrainStepMatchesHost(t *testing.T) {
	for _, p := range []float32{0, 0.5} {
		t.Run(fmt.Sprintf("dropout=%v", p), func(t *testing.T) {
			m := tinyAlexNet(t, p)
			dev := ref.New()
			defer dev.Close()
			plan, err := graph.New(dev, m.Sequential, m.InputShape(4), graph.Config{Seed: 99})
			require.NoError(t, err)
			defer plan.Close()
			r := testutil.NewRNG(5)
			const n, step = 3, 7
			img, lab := randomBatch(r, n)
			require.NoError(t, plan.Upload(img, lab))
			before, err := plan.ReadParams()
			require.NoError(t, err)
			// Adam state of a step other than the first: random m and v >= 0.
			adam, err := plan.ReadAdam()
			require.NoError(t, err)
			for i := range adam.M {
				for j := range adam.M[i].Data {
					adam.M[i].Data[j] = float32(1e-3 * (2*r.Float64() - 1))
					adam.V[i].Data[j] = float32(1e-6 * r.Float64())
				}
			}
			adam.Step = step - 1
			require.NoError(t, plan.LoadAdam(adam))

			st, err := plan.TrainStep(step, n)
			require.NoError(t, err)
			assert.Equal(t, step, plan.Step())
			res, err := plan.ReadTensors([]graph.NamedTensor{plan.Resized()})
			require.NoError(t, err)
			in := m.InputShape(n)
			x := testutil.To64(res[0].Data[:in.Elems()])
			for _, v := range x {
				require.True(t, v >= 0 && v <= 1, "resized pixel %v", v)
			}
			grads, err := plan.ReadTensors(plan.Grads())
			require.NoError(t, err)
			after, err := plan.ReadParams()
			require.NoError(t, err)

			w := hostParams(before)
			loss := func() float64 {
				logits, err := hostref.Forward(m.Sequential, in, x, w, true, step)
				require.NoError(t, err)
				l, _ := hostref.Loss(logits, lab, 10)
				return l
			}
			logits, err := hostref.Forward(m.Sequential, in, x, w, true, step)
			require.NoError(t, err)
			want, correct := hostref.Loss(logits, lab, 10)
			assert.InDelta(t, want, float64(st.Loss), 1e-5*math.Max(1, want))
			assert.Equal(t, correct, st.Correct)
			assert.Equal(t, n, st.N)

			// Finite differences of the float64 loss.
			const h = 1e-6
			fd := func(i, j int) float64 {
				old := w[i][j]
				w[i][j] = old + h
				lp := loss()
				w[i][j] = old - h
				lm := loss()
				w[i][j] = old
				return (lp - lm) / (2 * h)
			}
			gmax := 0.0
			for _, g := range grads {
				for _, v := range g.Data {
					gmax = math.Max(gmax, math.Abs(float64(v)))
				}
			}
			for i, g := range grads {
				for _, j := range []int{0, len(g.Data) / 2, len(g.Data) - 1, r.IntN(len(g.Data))} {
					testutil.RequireClose(t, g.Data[j:j+1], []float64{fd(i, j)}, 1e-5*gmax, 2e-3, fmt.Sprintf("%s[%d]", g.Name, j))
				}
			}
			// Directional derivative over every parameter at once.
			dir := make([][]float64, len(w))
			var dot float64
			for i := range w {
				dir[i] = make([]float64, len(w[i]))
				for j := range dir[i] {
					dir[i][j] = 2*r.Float64() - 1
					dot += dir[i][j] * float64(grads[i].Data[j])
				}
			}
			shift := func(s float64) float64 {
				for i := range w {
					for j := range w[i] {
						w[i][j] = float64(before[i].Data[j]) + s*dir[i][j]
					}
				}
				return loss()
			}
			const hd = 1e-7
			dd := (shift(hd) - shift(-hd)) / (2 * hd)
			shift(0)
			assert.InDelta(t, dd, dot, 1e-3*math.Abs(dd)+1e-6, "directional derivative")

			// Adam, in float64 from the device gradient and the loaded state.
			b1, b2 := 0.9, 0.999
			bc1, bc2 := 1-math.Pow(b1, step), 1-math.Pow(b2, step)
			for i := range after {
				want := make([]float64, len(w[i]))
				for j := range want {
					g := float64(grads[i].Data[j])
					mm := float64(adam.M[i].Data[j])*b1 + (1-b1)*g
					vv := float64(adam.V[i].Data[j])*b2 + (1-b2)*g*g
					want[j] = w[i][j] - 1e-3/bc1*mm/(math.Sqrt(vv)/math.Sqrt(bc2)+1e-8)
				}
				testutil.RequireClose(t, after[i].Data, want, 1e-7, 1e-5, after[i].Name)
			}
		})
	}
}

// TestPartialBatch checks that a step over the first b < B images equals the
// same step planned for exactly b images, and that a full batch follows.
func TestPartialBatch(t *testing.T) {
	m := tinyAlexNet(t, 0.5)
	dev := ref.New()
	defer dev.Close()
	big, err := graph.New(dev, m.Sequential, m.InputShape(5), graph.Config{Seed: 3})
	require.NoError(t, err)
	defer big.Close()
	small, err := graph.New(dev, m.Sequential, m.InputShape(3), graph.Config{Seed: 3})
	require.NoError(t, err)
	defer small.Close()
	r := testutil.NewRNG(8)
	img, lab := randomBatch(r, 3)
	require.NoError(t, big.Upload(img, lab))
	// The small plan gets the same batch pre-packed, as data.Batch holds it.
	lf := make([]float32, len(lab))
	for i, l := range lab {
		lf[i] = float32(l)
	}
	require.NoError(t, small.UploadPacked(backend.PackBytes(img), lf))
	sb, err := big.TrainStep(1, 3)
	require.NoError(t, err)
	ss, err := small.TrainStep(1, 3)
	require.NoError(t, err)
	assert.Equal(t, ss, sb)
	pb, err := big.ReadParams()
	require.NoError(t, err)
	ps, err := small.ReadParams()
	require.NoError(t, err)
	assert.Equal(t, ps, pb)
	eb, err := big.EvalStep(3)
	require.NoError(t, err)
	es, err := small.EvalStep(3)
	require.NoError(t, err)
	assert.Equal(t, es, eb)

	img5, lab5 := randomBatch(r, 5)
	require.NoError(t, big.Upload(img5, lab5))
	st, err := big.TrainStep(2, 5)
	require.NoError(t, err)
	assert.Equal(t, 5, st.N)
	assert.False(t, math.IsNaN(float64(st.Loss)))
	_, err = big.TrainStep(3, 6)
	require.ErrorContains(t, err, "the plan takes 1 to 5")
	_, err = big.TrainStep(0, 5)
	require.ErrorContains(t, err, "training step 0")
	require.ErrorContains(t, big.Upload(img5[:100], lab5), "image bytes")
	require.ErrorContains(t, big.Upload(img, []int{1, 2, 10}), "label 10")
	require.ErrorContains(t, big.UploadPacked(backend.PackBytes(img)[1:], lf), "packed words")
	require.ErrorContains(t, big.UploadPacked(backend.PackBytes(img), []float32{1, 2.5, 3}), "label 2.5")
	require.ErrorContains(t, big.UploadPacked(nil, nil), "upload of 0 images")
}

// TestEvalStep checks evaluation against the float64 host forward without
// dropout, and that it is repeatable.
func TestEvalStep(t *testing.T) {
	m := tinyAlexNet(t, 0.5)
	dev := ref.New()
	defer dev.Close()
	plan, err := graph.New(dev, m.Sequential, m.InputShape(4), graph.Config{Seed: 11})
	require.NoError(t, err)
	defer plan.Close()
	img, lab := randomBatch(testutil.NewRNG(2), 4)
	require.NoError(t, plan.Upload(img, lab))
	st, err := plan.EvalStep(4)
	require.NoError(t, err)
	logits, err := plan.ReadLogits(4)
	require.NoError(t, err)
	st2, err := plan.EvalStep(4)
	require.NoError(t, err)
	assert.Equal(t, st, st2)

	params, err := plan.ReadParams()
	require.NoError(t, err)
	res, err := plan.ReadTensors([]graph.NamedTensor{plan.Resized()})
	require.NoError(t, err)
	want, err := hostref.Forward(m.Sequential, m.InputShape(4), testutil.To64(res[0].Data), hostParams(params), false, 0)
	require.NoError(t, err)
	testutil.RequireClose(t, logits, want, 1e-6, 1e-5, "logits")
	wl, wc := hostref.Loss(want, lab, 10)
	assert.InDelta(t, wl, float64(st.Loss), 1e-5)
	assert.Equal(t, wc, st.Correct)
}

// TestCheckpointRoundTrip saves parameters and Adam state after two steps,
// loads them into a plan initialised from another seed and checks that the
// third step is bit-identical.
func TestCheckpointRoundTrip(t *testing.T) {
	m := tinyAlexNet(t, 0.5)
	dev := ref.New()
	defer dev.Close()
	a, err := graph.New(dev, m.Sequential, m.InputShape(3), graph.Config{Seed: 1})
	require.NoError(t, err)
	defer a.Close()
	r := testutil.NewRNG(4)
	for s := 1; s <= 2; s++ {
		img, lab := randomBatch(r, 3)
		require.NoError(t, a.Upload(img, lab))
		_, err := a.TrainStep(s, 3)
		require.NoError(t, err)
	}
	params, err := a.ReadParams()
	require.NoError(t, err)
	adam, err := a.ReadAdam()
	require.NoError(t, err)
	assert.Equal(t, 2, adam.Step)
	assert.Equal(t, "conv.0.weight", params[0].Name)
	assert.Equal(t, []int{6, 1, 11, 11}, params[0].Shape)

	b, err := graph.New(dev, m.Sequential, m.InputShape(3), graph.Config{Seed: 2})
	require.NoError(t, err)
	defer b.Close()
	pb, err := b.ReadParams()
	require.NoError(t, err)
	require.NotEqual(t, params, pb)
	require.NoError(t, b.LoadParams(params))
	require.NoError(t, b.LoadAdam(adam))
	assert.Equal(t, 2, b.Step())

	img, lab := randomBatch(r, 3)
	for _, p := range []*graph.Plan{a, b} {
		require.NoError(t, p.Upload(img, lab))
	}
	sa, err := a.TrainStep(3, 3)
	require.NoError(t, err)
	sb, err := b.TrainStep(3, 3)
	require.NoError(t, err)
	assert.Equal(t, sa, sb)
	pa, err := a.ReadParams()
	require.NoError(t, err)
	pb, err = b.ReadParams()
	require.NoError(t, err)
	assert.Equal(t, pa, pb)

	// Strict loading.
	bad := append([]graph.HostTensor(nil), params...)
	bad[0] = graph.HostTensor{Name: "conv.0.weight", Shape: []int{6, 1, 11, 10}, Data: make([]float32, 660)}
	require.ErrorContains(t, b.LoadParams(bad), "conv.0.weight: shape [6 1 11 10]")
	require.ErrorContains(t, b.LoadParams(params[1:]), `"conv.0.weight" missing`)
	require.ErrorContains(t, b.LoadParams(append(params, graph.HostTensor{Name: "fc.9.weight"})), `unknown parameter "fc.9.weight"`)
	require.ErrorContains(t, b.LoadParams(append(params, params[0])), "given twice")
}

// TestCloseReleasesEverything checks that Close frees every buffer and that
// the plan refuses work afterwards.
func TestCloseReleasesEverything(t *testing.T) {
	m := tinyAlexNet(t, 0.5)
	dev := ref.New()
	defer dev.Close()
	plan, err := graph.New(dev, m.Sequential, m.InputShape(2), graph.Config{})
	require.NoError(t, err)
	assert.Equal(t, len(plan.Layout().Buffers), dev.LiveBuffers())
	img, lab := randomBatch(testutil.NewRNG(1), 2)
	require.NoError(t, plan.Upload(img, lab))
	_, err = plan.TrainStep(1, 2)
	require.NoError(t, err)
	require.NoError(t, plan.Close())
	assert.Equal(t, 0, dev.LiveBuffers())
	require.NoError(t, plan.Close(), "idempotent")
	_, err = plan.TrainStep(2, 2)
	require.ErrorContains(t, err, "closed")
	_, err = plan.ReadParams()
	require.ErrorContains(t, err, "closed")
}

// TestOneReadPerStep counts host round trips: a training step performs
// exactly one Read.
func TestOneReadPerStep(t *testing.T) {
	m := tinyAlexNet(t, 0.5)
	dev := &testutil.CountingDevice{Device: ref.New()}
	defer dev.Close()
	plan, err := graph.New(dev, m.Sequential, m.InputShape(2), graph.Config{})
	require.NoError(t, err)
	defer plan.Close()
	img, lab := randomBatch(testutil.NewRNG(1), 2)
	require.NoError(t, plan.Upload(img, lab))
	dev.Reads, dev.Writes, dev.Syncs, dev.Dispatches = 0, 0, 0, 0
	_, err = plan.TrainStep(1, 2)
	require.NoError(t, err)
	assert.Equal(t, 1, dev.Reads)
	assert.Zero(t, dev.Writes)
	assert.Zero(t, dev.Syncs)
	// The unfused step less the ReLU passes fused into the layers before them.
	assert.Equal(t, unfusedStepDispatches-fusedAwayDispatches, dev.Dispatches)
}
