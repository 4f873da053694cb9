package vgg_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/layers"
	"github.com/crossgrad/crossgrad/model"
	"github.com/crossgrad/crossgrad/vgg"
)

// TestFullModelMatchesD2L checks VGG-11 at 224x224, width 1: the parameter
// count, the state_dict names and shapes of d2l.ai's nn.Sequential and each
// layer's name, type and output shape.
func TestFullModelMatchesD2L(t *testing.T) {
	m, err := vgg.New(model.DefaultOptions())
	require.NoError(t, err)
	assert.Equal(t, 43093322, m.ParamCount())
	assert.Equal(t, vgg.FullParams, m.ParamCount())
	want := []struct {
		name  string
		shape []int
	}{
		{"0.0.weight", []int{16, 1, 3, 3}}, {"0.0.bias", []int{16}},
		{"1.0.weight", []int{32, 16, 3, 3}}, {"1.0.bias", []int{32}},
		{"2.0.weight", []int{64, 32, 3, 3}}, {"2.0.bias", []int{64}},
		{"2.2.weight", []int{64, 64, 3, 3}}, {"2.2.bias", []int{64}},
		{"3.0.weight", []int{128, 64, 3, 3}}, {"3.0.bias", []int{128}},
		{"3.2.weight", []int{128, 128, 3, 3}}, {"3.2.bias", []int{128}},
		{"4.0.weight", []int{128, 128, 3, 3}}, {"4.0.bias", []int{128}},
		{"4.2.weight", []int{128, 128, 3, 3}}, {"4.2.bias", []int{128}},
		{"6.weight", []int{4096, 6272}}, {"6.bias", []int{4096}},
		{"9.weight", []int{4096, 4096}}, {"9.bias", []int{4096}},
		{"12.weight", []int{10, 4096}}, {"12.bias", []int{10}},
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
	for i, l := range m.Layers() {
		got = append(got, l.Name()+" "+l.Type()+" "+shapes[i+1].String())
	}
	assert.Equal(t, []string{
		"0.0 Conv2d [-1, 16, 224, 224]", "0.1 ReLU [-1, 16, 224, 224]", "0.2 MaxPool2d [-1, 16, 112, 112]",
		"1.0 Conv2d [-1, 32, 112, 112]", "1.1 ReLU [-1, 32, 112, 112]", "1.2 MaxPool2d [-1, 32, 56, 56]",
		"2.0 Conv2d [-1, 64, 56, 56]", "2.1 ReLU [-1, 64, 56, 56]", "2.2 Conv2d [-1, 64, 56, 56]",
		"2.3 ReLU [-1, 64, 56, 56]", "2.4 MaxPool2d [-1, 64, 28, 28]",
		"3.0 Conv2d [-1, 128, 28, 28]", "3.1 ReLU [-1, 128, 28, 28]", "3.2 Conv2d [-1, 128, 28, 28]",
		"3.3 ReLU [-1, 128, 28, 28]", "3.4 MaxPool2d [-1, 128, 14, 14]",
		"4.0 Conv2d [-1, 128, 14, 14]", "4.1 ReLU [-1, 128, 14, 14]", "4.2 Conv2d [-1, 128, 14, 14]",
		"4.3 ReLU [-1, 128, 14, 14]", "4.4 MaxPool2d [-1, 128, 7, 7]",
		"5 Flatten [-1, 6272]", "6 Linear [-1, 4096]", "7 ReLU [-1, 4096]", "8 Dropout [-1, 4096]",
		"9 Linear [-1, 4096]", "10 ReLU [-1, 4096]", "11 Dropout [-1, 4096]", "12 Linear [-1, 10]",
	}, got)
	for _, l := range m.Layers() {
		switch l := l.(type) {
		case *layers.Conv2d:
			assert.Equal(t, [3]int{3, 1, 1}, [3]int{l.K, l.Stride, l.Pad}, l.Name())
		case *layers.MaxPool2d:
			assert.Equal(t, [3]int{2, 2, 0}, [3]int{l.K, l.Stride, l.Pad}, l.Name())
		}
	}
}

// TestInputSizes checks the first Linear's in-features, 128*(in/32)^2
// (rounded down as PyTorch's pools do), and that 31 is refused naming the
// minimum and the pool it does not fit.
func TestInputSizes(t *testing.T) {
	o := model.DefaultOptions()
	for in, feats := range map[int]int{32: 128, 63: 128, 64: 512, 100: 1152, 224: 6272} {
		o.InputSize = in
		m, err := vgg.New(o)
		require.NoError(t, err, in)
		fc := m.Layers()[22].(*layers.Linear)
		assert.Equal(t, feats, fc.In, "input %d", in)
		assert.Equal(t, vgg.FullParams-(6272-feats)*4096, m.ParamCount(), "input %d", in)
	}
	o.InputSize = vgg.MinInputSize - 1
	_, err := vgg.New(o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "vgg11: input_size 31 is too small; allowed: at least 32 (the five 2x2 max-pools)")
	assert.Contains(t, err.Error(), "4.4 (MaxPool2d k2 s2): input 1x1 smaller than kernel 2x2")
	require.EqualError(t, vgg.Arch{}.Validate(o), err.Error(), "Validate and New refuse alike")

	o = model.DefaultOptions()
	o.Width = 0
	require.ErrorContains(t, vgg.Arch{}.Validate(o), "vgg11: width 0, classes 10 and input size 224 must be positive")
	o = model.DefaultOptions()
	o.Dropout = -0.5
	require.ErrorContains(t, vgg.Arch{}.Validate(o), "vgg11: dropout -0.5 outside [0, 1]")
}

// TestWidthAndDropout checks that width scales every block's channels and
// the hidden width, and that layers 8 and 11 drop with Seed and Seed+1.
func TestWidthAndDropout(t *testing.T) {
	o := model.DefaultOptions()
	o.InputSize, o.Width, o.Dropout, o.Seed, o.Classes = 64, 0.25, 0.3, 40, 7
	m, err := vgg.New(o)
	require.NoError(t, err)
	var outs []int
	var seeds []uint32
	for _, l := range m.Layers() {
		switch l := l.(type) {
		case *layers.Conv2d:
			outs = append(outs, l.Out)
		case *layers.Linear:
			outs = append(outs, l.Out)
		case *layers.Dropout:
			assert.Equal(t, float32(0.3), l.P)
			seeds = append(seeds, l.Seed)
		}
	}
	assert.Equal(t, []int{4, 8, 16, 16, 32, 32, 32, 32, 1024, 1024, 7}, outs)
	assert.Equal(t, []uint32{40, 41}, seeds)
	assert.Equal(t, 32*2*2, m.Layers()[22].(*layers.Linear).In)
	assert.Equal(t, "vgg11 input_size 64, width 0.25", m.Describe())
}

func TestSummary(t *testing.T) {
	m, err := model.New(vgg.Name, model.DefaultOptions())
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, m.Summary(&b))
	s := b.String()
	for _, want := range []string{
		"0.0 (Conv2d)", "[-1, 16, 224, 224]", "160",
		"4.4 (MaxPool2d)", "[-1, 128, 7, 7]",
		"6 (Linear)", "25,694,208", "9 (Linear)", "16,781,312", "12 (Linear)", "40,970",
		"Total params: 43,093,322", "Trainable params: 43,093,322",
	} {
		assert.Contains(t, s, want)
	}
	assert.Equal(t, 29+3+3+2+4+1, strings.Count(s, "\n"), "29 layer rows plus header, totals and sizes")
	assert.Contains(t, vgg.Arch{}.Title(), "43,093,322")
}
