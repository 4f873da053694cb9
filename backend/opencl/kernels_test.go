package opencl

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
)

// refCase is one dispatch run on the OpenCL device and on the reference
// backend with identical inputs (nil input = output-only, poisoned with
// NaN); the outputs listed are compared within atol + rtol*|ref|.
type refCase struct {
	name       string
	p          backend.Params
	in         [][]float32
	alias      map[int]int // slot -> earlier slot sharing its buffer
	outputs    []int
	atol, rtol float64
}

// runOn allocates c's buffers on d, dispatches and reads the outputs.
func runOn(t *testing.T, d backend.Device, c refCase) [][]float32 {
	t.Helper()
	sizes := c.p.BufferSizes()
	bufs := make([]backend.Buffer, len(sizes))
	for i, n := range sizes {
		if j, ok := c.alias[i]; ok {
			bufs[i] = bufs[j]
			continue
		}
		v := c.in[i]
		if v == nil {
			v = testutil.NaNSlice(n)
		}
		bufs[i] = upload(t, d, v)
		defer bufs[i].Release()
	}
	require.NoError(t, d.Dispatch(c.p, bufs...))
	out := make([][]float32, len(sizes))
	for _, o := range c.outputs {
		out[o] = download(t, d, bufs[o], sizes[o])
	}
	return out
}

func checkAgainstRef(t *testing.T, d *Device, cases []refCase) {
	rd := ref.New()
	defer rd.Close()
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s", c.p.Kernel(), c.name), func(t *testing.T) {
			want := runOn(t, rd, c)
			got := runOn(t, d, c)
			for _, o := range c.outputs {
				requireClose(t, fmt.Sprintf("buffer %d", o), want[o], got[o], c.atol, c.rtol)
			}
		})
	}
}

func TestElementwiseMatchesRef(t *testing.T) {
	d := openTest(t)
	r := rand.New(rand.NewSource(1))
	const n = 1037
	x := randSlice(r, n, -2, 2)
	x[3], x[4] = 0, float32(math.Copysign(0, -1))
	y := make([]float32, n)
	for i, v := range x {
		y[i] = max(v, 0)
	}
	dr := backend.DropoutScale(0.5)
	cases := []refCase{
		{name: "relu_fwd", p: backend.ReluFwd{N: n}, in: [][]float32{x, nil}, outputs: []int{1}},
		{name: "relu_fwd_inplace", p: backend.ReluFwd{N: n}, in: [][]float32{x, nil}, alias: map[int]int{1: 0}, outputs: []int{0}},
		{name: "relu_bwd", p: backend.ReluBwd{N: n}, in: [][]float32{y, randSlice(r, n, -1, 1), nil}, outputs: []int{2}},
		{name: "dropout_fwd", p: backend.DropoutFwd{N: 4099, Seed: 12345, Step: 7, P: 0.5, Scale: dr}, in: [][]float32{randSlice(r, 4099, 0.5, 2), nil}, outputs: []int{1}},
		{name: "dropout_fwd_p0", p: backend.DropoutFwd{N: 99, Seed: 1, Step: 0, P: 0, Scale: 1}, in: [][]float32{randSlice(r, 99, 0.5, 2), nil}, outputs: []int{1}},
		{name: "dropout_fwd_p1", p: backend.DropoutFwd{N: 99, Seed: 1, Step: 0, P: 1, Scale: 0}, in: [][]float32{randSlice(r, 99, 0.5, 2), nil}, outputs: []int{1}},
		{name: "dropout_bwd", p: backend.DropoutBwd{N: 4099, Seed: 0xFFFFFFFF, Step: 123456, P: 0.3, Scale: backend.DropoutScale(0.3)}, in: [][]float32{randSlice(r, 4099, 0.5, 2), nil}, outputs: []int{1}},
		{name: "fill", p: backend.Fill{N: n, Value: -3.5}, in: [][]float32{nil}, outputs: []int{0}},
		{name: "axpy", p: backend.Axpy{N: n, Alpha: -0.37}, in: [][]float32{randSlice(r, n, -1, 1), randSlice(r, n, -1, 1)}, outputs: []int{1}, atol: 1e-6, rtol: 1e-6},
		{name: "scale", p: backend.Scale{N: n, Alpha: 1.7}, in: [][]float32{randSlice(r, n, -1, 1)}, outputs: []int{0}},
		{name: "bias_add", p: backend.BiasAdd{Rows: 7, Cols: 301}, in: [][]float32{randSlice(r, 7*301, -1, 1), randSlice(r, 301, -1, 1)}, outputs: []int{0}},
		{name: "bias_grad_tall", p: backend.BiasGrad{Rows: 2051, Cols: 13}, in: [][]float32{randSlice(r, 2051*13, -1, 1), nil}, outputs: []int{1}, atol: 1e-5, rtol: 1e-5},
		{name: "bias_grad_wide", p: backend.BiasGrad{Rows: 3, Cols: 517}, in: [][]float32{randSlice(r, 3*517, -1, 1), nil}, outputs: []int{1}, atol: 1e-6, rtol: 1e-6},
	}
	for _, step := range []int{1, 2, 1000} {
		an := 5003
		cases = append(cases, refCase{name: fmt.Sprintf("adam_t%d", step), p: backend.NewAdam(an, 1e-3, 0.9, 0.999, 1e-8, step),
			in:      [][]float32{randSlice(r, an, -1, 1), randSlice(r, an, -0.1, 0.1), randSlice(r, an, -0.01, 0.01), randSlice(r, an, 0, 1e-4)},
			outputs: []int{0, 2, 3}, atol: 1e-6, rtol: 1e-5})
	}
	checkAgainstRef(t, d, cases)
}

func TestSoftmaxXentMatchesRef(t *testing.T) {
	d := openTest(t)
	r := rand.New(rand.NewSource(2))
	labels := func(n, c int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.Intn(c))
		}
		return v
	}
	var cases []refCase
	for _, s := range [][2]int{{1, 10}, {128, 10}, {300, 10}, {37, 1000}, {5, 1}} {
		n, c := s[0], s[1]
		logits := randSlice(r, n*c, -4, 4)
		if c > 1 {
			logits[1] = logits[0] // a tie: the first maximum counts
		}
		cases = append(cases, refCase{name: fmt.Sprintf("n%d_c%d", n, c), p: backend.SoftmaxXent{N: uint32(n), C: uint32(c)},
			in: [][]float32{logits, labels(n, c), nil, nil}, outputs: []int{2, 3}, atol: 1e-6, rtol: 1e-5})
	}
	bad := labels(9, 4)
	bad[2] = 4 // out of range: loss NaN, no one-hot term
	cases = append(cases, refCase{name: "bad_label", p: backend.SoftmaxXent{N: 9, C: 4},
		in: [][]float32{randSlice(r, 36, -2, 2), bad, nil, nil}, outputs: []int{2, 3}, atol: 1e-6, rtol: 1e-5})
	checkAgainstRef(t, d, cases)
}

func TestMaxPoolMatchesRef(t *testing.T) {
	d := openTest(t)
	r := rand.New(rand.NewSource(3))
	shapes := []backend.Pool2DShape{
		backend.NewPool2DShape(2, 3, 13, 15, 3, 2, 0), // AlexNet's 3x3/2
		backend.NewPool2DShape(1, 2, 9, 7, 2, 2, 1),
		backend.NewPool2DShape(3, 1, 6, 5, 3, 1, 1),
		backend.NewPool2DShape(1, 1, 1, 1, 1, 1, 0),
	}
	rd := ref.New()
	defer rd.Close()
	var cases []refCase
	for i, g := range shapes {
		x := make([]float32, g.XLen())
		for j := range x {
			x[j] = float32(r.Intn(5)) // many ties
		}
		// idx from the reference forward, dy random.
		idx := make([]float32, g.YLen())
		ref.MaxPoolFwd(backend.MaxPoolFwd{Pool2DShape: g}, x, make([]float32, g.YLen()), idx)
		cases = append(cases,
			refCase{name: fmt.Sprint(i), p: backend.MaxPoolFwd{Pool2DShape: g}, in: [][]float32{x, nil, nil}, outputs: []int{1, 2}},
			refCase{name: fmt.Sprint(i), p: backend.MaxPoolBwd{Pool2DShape: g}, in: [][]float32{randSlice(r, g.YLen(), -1, 1), idx, nil}, outputs: []int{2}, atol: 1e-6, rtol: 1e-6})
	}
	checkAgainstRef(t, d, cases)
}

func TestResizeMatchesRef(t *testing.T) {
	d := openTest(t)
	r := rand.New(rand.NewSource(4))
	var cases []refCase
	for _, s := range [][5]int{{2, 28, 28, 224, 224}, {3, 28, 28, 13, 13}, {1, 5, 7, 11, 3}, {2, 1, 1, 3, 3}, {1, 9, 9, 9, 9}, {1, 100, 3, 7, 30}} {
		n, ih, iw, oh, ow := s[0], s[1], s[2], s[3], s[4]
		px := make([]byte, n*ih*iw)
		for i := range px {
			px[i] = byte(r.Intn(256))
		}
		unpacked := make([]float32, len(px))
		for i, b := range px {
			unpacked[i] = float32(b)
		}
		name := fmt.Sprintf("%dx%dx%d_to_%dx%d", n, ih, iw, oh, ow)
		for packed, src := range [][]float32{unpacked, backend.PackBytes(px)} {
			p := backend.ResizeBilinear{N: uint32(n), InH: uint32(ih), InW: uint32(iw), OutH: uint32(oh), OutW: uint32(ow), Packed: uint32(packed)}
			cases = append(cases, refCase{name: fmt.Sprintf("%s_packed%d", name, packed), p: p, in: [][]float32{src, nil}, outputs: []int{1}})
		}
	}
	// Non-integer and out-of-range unpacked values round and clamp.
	odd := []float32{-3, 0.4, 0.5, 254.6, 300, float32(math.NaN()), float32(math.Inf(1)), 17.5, 128}
	cases = append(cases, refCase{name: "odd_values", p: backend.ResizeBilinear{N: 1, InH: 3, InW: 3, OutH: 5, OutW: 4}, in: [][]float32{odd, nil}, outputs: []int{1}})
	checkAgainstRef(t, d, cases)
}
