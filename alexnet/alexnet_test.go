package alexnet_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/crossgrad/crossgrad/alexnet"
	"github.com/crossgrad/crossgrad/layers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFullModelMatchesSeed checks the seed architecture at 224x224: the
// parameter count (from shapes, nothing allocated), the state_dict names and
// shapes, and the activation shapes written in the seed's comments.
func TestFullModelMatchesSeed(t *testing.T) {
	m, err := alexnet.New(alexnet.DefaultOptions())
	require.NoError(t, err)
	assert.Equal(t, 46764746, m.ParamCount())
	assert.Equal(t, alexnet.FullParams, m.ParamCount())
	want := []struct {
		name  string
		shape []int
	}{
		{"conv.0.weight", []int{96, 1, 11, 11}}, {"conv.0.bias", []int{96}},
		{"conv.3.weight", []int{256, 96, 5, 5}}, {"conv.3.bias", []int{256}},
		{"conv.6.weight", []int{384, 256, 3, 3}}, {"conv.6.bias", []int{384}},
		{"conv.8.weight", []int{384, 384, 3, 3}}, {"conv.8.bias", []int{384}},
		{"conv.10.weight", []int{256, 384, 3, 3}}, {"conv.10.bias", []int{256}},
		{"fc.0.weight", []int{4096, 6400}}, {"fc.0.bias", []int{4096}},
		{"fc.3.weight", []int{4096, 4096}}, {"fc.3.bias", []int{4096}},
		{"fc.6.weight", []int{10, 4096}}, {"fc.6.bias", []int{10}},
	}
	ps := m.Params()
	require.Len(t, ps, len(want))
	for i, w := range want {
		assert.Equal(t, w.name, ps[i].Name)
		assert.Equal(t, w.shape, ps[i].Shape, w.name)
	}
	shapes, err := m.Shapes(m.InputShape(2))
	require.NoError(t, err)
	var got []string
	var types []string
	for i, l := range m.Layers() {
		got = append(got, l.Name()+" "+shapes[i+1].String())
		types = append(types, l.Type())
	}
	assert.Equal(t, []string{
		"conv.0 [-1, 96, 54, 54]", "conv.1 [-1, 96, 54, 54]", "conv.2 [-1, 96, 26, 26]",
		"conv.3 [-1, 256, 26, 26]", "conv.4 [-1, 256, 26, 26]", "conv.5 [-1, 256, 12, 12]",
		"conv.6 [-1, 384, 12, 12]", "conv.7 [-1, 384, 12, 12]", "conv.8 [-1, 384, 12, 12]",
		"conv.9 [-1, 384, 12, 12]", "conv.10 [-1, 256, 12, 12]", "conv.11 [-1, 256, 12, 12]",
		"conv.12 [-1, 256, 5, 5]", "flatten [-1, 6400]", "fc.0 [-1, 4096]", "fc.1 [-1, 4096]",
		"fc.2 [-1, 4096]", "fc.3 [-1, 4096]", "fc.4 [-1, 4096]", "fc.5 [-1, 4096]", "fc.6 [-1, 10]",
	}, got)
	assert.Equal(t, []string{"Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d",
		"Conv2d", "ReLU", "Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d", "Flatten",
		"Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"}, types)
	c0 := m.Layers()[0].(*layers.Conv2d)
	assert.Equal(t, [3]int{11, 4, 1}, [3]int{c0.K, c0.Stride, c0.Pad})
	assert.Equal(t, float32(0.5), m.Layers()[16].(*layers.Dropout).P)
}

func TestInputSizeLimits(t *testing.T) {
	o := alexnet.DefaultOptions()
	o.InputSize = alexnet.MinInputSize
	m, err := alexnet.New(o)
	require.NoError(t, err)
	out, err := m.Shapes(m.InputShape(1))
	require.NoError(t, err)
	assert.Equal(t, layers.Shape{1, 256, 1, 1}, out[13], "conv.12 output at 65")
	assert.Equal(t, 256, m.Layers()[14].(*layers.Linear).In)
	assert.Equal(t, 256*4096+4096+4096*4096+4096+4096*10+10+(alexnet.FullParams-6400*4096-4096-4096*4096-4096-4096*10-10), m.ParamCount())

	o.InputSize = 64
	_, err = alexnet.New(o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "conv.12 (MaxPool2d k3 s2): input 2x2 smaller than kernel 3x3")

	o.InputSize = 128
	m, err = alexnet.New(o)
	require.NoError(t, err)
	assert.Equal(t, 256*2*2, m.Layers()[14].(*layers.Linear).In, "flatten follows the input")

	o = alexnet.DefaultOptions()
	o.Width = 0
	_, err = alexnet.New(o)
	require.ErrorContains(t, err, "must be positive")
	o = alexnet.DefaultOptions()
	o.Dropout = 1.5
	_, err = alexnet.New(o)
	require.ErrorContains(t, err, "dropout 1.5")
}

func TestWidthMultiplier(t *testing.T) {
	o := alexnet.DefaultOptions()
	o.InputSize, o.Width, o.Dropout = 65, 1.0/16, 0.25
	m, err := alexnet.New(o)
	require.NoError(t, err)
	var ch []int
	for _, l := range m.Layers() {
		switch l := l.(type) {
		case *layers.Conv2d:
			ch = append(ch, l.Out)
		case *layers.Linear:
			ch = append(ch, l.Out)
		case *layers.Dropout:
			assert.Equal(t, float32(0.25), l.P)
		}
	}
	assert.Equal(t, []int{6, 16, 24, 24, 16, 256, 256, 10}, ch)
	assert.Equal(t, 1, alexnet.Scaled(96, 1e-6), "at least one channel")
	assert.Equal(t, 1, alexnet.Scaled(4096, 1e-9))
}

func TestSummary(t *testing.T) {
	m, err := alexnet.New(alexnet.DefaultOptions())
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, m.Summary(&b))
	s := b.String()
	for _, want := range []string{
		"Layer (type)", "Output Shape", "Param #",
		"conv.0 (Conv2d)", "[-1, 96, 54, 54]", "11,712",
		"conv.12 (MaxPool2d)", "[-1, 256, 5, 5]",
		"fc.0 (Linear)", "[-1, 4096]", "26,218,496",
		"fc.6 (Linear)", "[-1, 10]", "40,970",
		"Total params: 46,764,746", "Trainable params: 46,764,746", "Non-trainable params: 0",
		"Params size (MB): 178.39",
	} {
		assert.Contains(t, s, want)
	}
	assert.Equal(t, 21+3+3+2+4+1, strings.Count(s, "\n"), "21 layer rows plus header, totals and sizes")
}

// TestInit checks the initial values of every parameter of a small AlexNet:
// within PyTorch's bound 1/sqrt(fan_in), spread over it, reproducible from
// the seed and different for another seed.
func TestInit(t *testing.T) {
	o := alexnet.DefaultOptions()
	o.InputSize, o.Width = 65, 1.0/8
	m, err := alexnet.New(o)
	require.NoError(t, err)
	a, b, c := m.InitParams(5), m.InitParams(5), m.InitParams(6)
	require.Equal(t, a, b)
	fans := map[string]int{"conv.0": 121, "conv.3": 12 * 25, "conv.6": 32 * 9, "conv.8": 48 * 9,
		"conv.10": 48 * 9, "fc.0": 32, "fc.3": 512, "fc.6": 512}
	for i, p := range m.Params() {
		layer := strings.TrimSuffix(strings.TrimSuffix(p.Name, ".weight"), ".bias")
		require.Equal(t, fans[layer], p.FanIn, p.Name)
		bound := 1 / math.Sqrt(float64(p.FanIn))
		mx := 0.0
		for _, v := range a[i] {
			mx = math.Max(mx, math.Abs(float64(v)))
		}
		assert.LessOrEqual(t, mx, float64(float32(bound)), p.Name)
		if len(a[i]) > 200 {
			assert.Greater(t, mx, 0.97*bound, p.Name)
		}
		assert.NotEqual(t, a[i], c[i], p.Name)
	}
}
