package graph_test

import (
	"strings"
	"testing"

	"github.com/crossgrad/crossgrad/alexnet"
	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/crossgrad/crossgrad/layers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func names(lo *graph.Layout, k graph.Kind) []string {
	var out []string
	for _, b := range lo.Buffers {
		if b.Kind == k {
			out = append(out, b.Name)
		}
	}
	return out
}

func TestLayoutReuse(t *testing.T) {
	m := tinyAlexNet(t, 0.5)
	lo, err := graph.NewLayout(m.Sequential, m.InputShape(4), graph.Config{})
	require.NoError(t, err)
	// ReLUs after conv/linear run in place; fc.2 keeps its own buffer because
	// fc.1's backward reads fc.1's output; flatten is a view.
	assert.Equal(t, []string{"act.input", "act.conv.0", "act.conv.2", "act.conv.3", "act.conv.5",
		"act.conv.6", "act.conv.8", "act.conv.10", "act.conv.12", "act.fc.0", "act.fc.2",
		"act.fc.3", "act.fc.5", "act.fc.6"}, names(lo, graph.KindActivation))
	assert.Equal(t, []string{"grad.ping", "grad.pong"}, names(lo, graph.KindGrad))
	assert.Equal(t, []string{"conv.2.aux0", "conv.5.aux0", "conv.12.aux0"}, names(lo, graph.KindAux))
	assert.Len(t, names(lo, graph.KindParam), 16)
	for _, k := range []graph.Kind{graph.KindParamGrad, graph.KindAdamM, graph.KindAdamV} {
		assert.Len(t, names(lo, k), 16)
	}
	// Gradient slots: ping holds the largest even-position gradient (conv.1's
	// output, 6x15x15 per image), pong conv.3's input (6x7x7).
	for _, b := range lo.Buffers {
		switch b.Name {
		case "grad.ping":
			assert.Equal(t, 4*6*15*15, b.Elems)
		case "grad.pong":
			assert.Equal(t, 4*6*7*7, b.Elems)
		case "input.packed":
			assert.Equal(t, 4*784/4, b.Elems)
		}
	}
	assert.Less(t, lo.Bytes(), lo.Naive, "reuse must shrink memory")
	assert.Equal(t, lo.Bytes(), sumBytes(lo.BytesByKind()))
}

func sumBytes(m map[graph.Kind]uint64) uint64 {
	var t uint64
	for _, v := range m {
		t += v
	}
	return t
}

// TestLayoutFullAlexNet plans the seed model at batch 128 without allocating
// anything and checks the memory figures.
func TestLayoutFullAlexNet(t *testing.T) {
	m, err := alexnet.New(alexnet.DefaultOptions())
	require.NoError(t, err)
	lo, err := graph.NewLayout(m.Sequential, m.InputShape(128), graph.Config{ConvAlgo: graph.ConvGemm})
	require.NoError(t, err)
	kinds := lo.BytesByKind()
	assert.Equal(t, uint64(4*alexnet.FullParams), kinds[graph.KindParam])
	assert.Equal(t, uint64(4*alexnet.FullParams), kinds[graph.KindAdamV])
	assert.Equal(t, uint64(4*128*(96*54*54+96*26*26)), kinds[graph.KindGrad], "ping-pong: conv.1 and conv.3 inputs")
	big := lo.Largest(2)
	assert.Equal(t, "act.conv.0", big[0].Name)
	assert.Equal(t, 128*96*54*54, big[0].Elems)
	assert.Equal(t, "grad.ping", big[1].Name)
	t.Logf("AlexNet 224, batch 128: plan %s (naive %s); activations %s, grads %s, aux %s, params+grads+adam %s",
		graph.MiB(lo.Bytes()), graph.MiB(lo.Naive), graph.MiB(kinds[graph.KindActivation]),
		graph.MiB(kinds[graph.KindGrad]), graph.MiB(kinds[graph.KindAux]),
		graph.MiB(kinds[graph.KindParam]+kinds[graph.KindParamGrad]+kinds[graph.KindAdamM]+kinds[graph.KindAdamV]))
	assert.Less(t, lo.Bytes(), lo.Naive)
	var rep strings.Builder
	require.NoError(t, lo.Report(&rep))
	assert.Contains(t, rep.String(), "act.conv.0")
	assert.Contains(t, rep.String(), "total (batch 128, ")
	assert.Contains(t, rep.String(), graph.MiB(lo.Bytes()))
	assert.Equal(t, len(lo.Buffers)+10+3, strings.Count(rep.String(), "\n"))
	require.NoError(t, lo.Fits(backend.Info{GlobalMemory: 8 << 30, MaxAlloc: 2 << 30}))
}

func TestLayoutErrors(t *testing.T) {
	m := tinyAlexNet(t, 0.5)
	_, err := graph.NewLayout(m.Sequential, layers.Shape{4, 3, 65, 65}, graph.Config{})
	require.ErrorContains(t, err, "is not [B, 1, H, W]")
	_, err = graph.NewLayout(m.Sequential, layers.Shape{4, 1, 64, 64}, graph.Config{})
	require.ErrorContains(t, err, "conv.12 (MaxPool2d k3 s2): input 2x2 smaller than kernel 3x3")
	_, err = graph.NewLayout(m.Sequential, m.InputShape(4), graph.Config{Classes: 7})
	require.ErrorContains(t, err, "is not [N, 7]")
	noParams := layers.NewSequential().Add("", layers.NewFlatten())
	_, err = graph.NewLayout(noParams, layers.Shape{2, 1, 2, 5}, graph.Config{})
	require.ErrorContains(t, err, "no parameters")
}

func TestMemoryTooBig(t *testing.T) {
	m := tinyAlexNet(t, 0.5)
	lo2, err := graph.NewLayout(m.Sequential, m.InputShape(2), graph.Config{})
	require.NoError(t, err)
	lo3, err := graph.NewLayout(m.Sequential, m.InputShape(3), graph.Config{})
	require.NoError(t, err)
	require.Less(t, lo2.Bytes(), lo3.Bytes())

	dev := ref.New()
	defer dev.Close()
	fake := &testutil.FakeDevice{Device: dev, Reported: &backend.Info{Name: "tiny", GlobalMemory: lo2.Bytes() + 1, MaxAlloc: 1 << 30}}
	_, err = graph.New(fake, m.Sequential, m.InputShape(8), graph.Config{})
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "plan for batch 8 needs")
	assert.Contains(t, msg, "device tiny has")
	assert.Contains(t, msg, "largest buffers: [winograd.V 0.3 MiB winograd.M 0.3 MiB fc.3.weight 0.2 MiB")
	assert.Contains(t, msg, "batch size 2 would fit")
	assert.Equal(t, 0, fake.Allocs, "nothing allocated")
	assert.Equal(t, 0, dev.LiveBuffers())

	// A single-buffer limit below the largest parameter: no batch fits.
	fake.Reported = &backend.Info{Name: "tiny", GlobalMemory: 1 << 30, MaxAlloc: 1 << 10}
	_, err = graph.New(fake, m.Sequential, m.InputShape(8), graph.Config{})
	require.ErrorContains(t, err, "no batch size fits")

	// The suggestion is exact: it fits and one more does not.
	info := backend.Info{GlobalMemory: lo3.Bytes() + 100}
	lo8, err := graph.NewLayout(m.Sequential, m.InputShape(8), graph.Config{})
	require.NoError(t, err)
	assert.Equal(t, 3, lo8.FitBatch(info))
	require.NoError(t, lo3.Fits(info))
	require.Error(t, lo8.Fits(info))
}

func TestAllocFailureReleasesEverything(t *testing.T) {
	m := tinyAlexNet(t, 0.5)
	dev := ref.New()
	defer dev.Close()
	fake := &testutil.FakeDevice{Device: dev, FailAlloc: 11}
	_, err := graph.New(fake, m.Sequential, m.InputShape(2), graph.Config{})
	require.ErrorContains(t, err, "fake: out of device memory")
	assert.Equal(t, 0, dev.LiveBuffers())
}
