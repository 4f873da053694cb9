package backendtest

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// oddSizes are element counts that are not multiples of any tile, vector or
// work-group size.
var oddSizes = []int{1, 3, 7, 13, 17, 31, 33, 65, 129, 1025, 4099, 65537}

func reluCases() []Case {
	var out []Case
	for _, n := range oddSizes {
		x := WithZeros(Symmetric(1), 0.1)
		out = append(out,
			Case{Name: fmt.Sprintf("n%d", n), Params: backend.ReluFwd{N: uint32(n)},
				Init: []Gen{x, nil}},
			Case{Name: fmt.Sprintf("n%d", n), Params: backend.ReluBwd{N: uint32(n)},
				Init: []Gen{Relued(x), Symmetric(1), nil}},
		)
	}
	for _, n := range []int{1, 33, 4099} {
		x := WithZeros(Symmetric(1), 0.1)
		out = append(out,
			Case{Name: fmt.Sprintf("inplace_n%d", n), Params: backend.ReluFwd{N: uint32(n)},
				Init: []Gen{x, nil}, Alias: map[int]int{1: 0}},
			Case{Name: fmt.Sprintf("inplace_n%d", n), Params: backend.ReluBwd{N: uint32(n)},
				Init: []Gen{Relued(x), Symmetric(1), nil}, Alias: map[int]int{2: 1}},
		)
	}
	return out
}

func dropoutCases() []Case {
	type dc struct {
		name       string
		n          int
		seed, step uint32
		p          float32
		inplace    bool
		offset     uint32
	}
	list := []dc{
		{"p0.5_n1", 1, 1, 0, 0.5, false, 0},
		{"p0.5_n7", 7, 42, 3, 0.5, false, 0},
		{"p0.5_n4099", 4099, 12345, 7, 0.5, false, 0},
		{"p0.5_n4099_inplace", 4099, 12345, 8, 0.5, true, 0},
		{"p0.1_n129_high_bits", 129, 0xDEADBEEF, 4000000000, 0.1, false, 0},
		{"p0.9_n1025", 1025, 0xFFFFFFFF, 0xFFFFFFFF, 0.9, false, 0},
		{"p0_keep_all", 65, 9, 1, 0, false, 0},
		{"p1_drop_all", 65, 9, 1, 1, false, 0},
		{"p0.5_n131075", 131075, 2024, 100, 0.5, false, 0},
		{"p0.5_n4099_offset", 4099, 12345, 7, 0.5, false, 3*4099 + 5},
		{"p0.5_n33_offset1_inplace", 33, 77, 2, 0.5, true, 1},
		{"p0.3_n1025_offset_wraps", 1025, 5, 9, 0.3, false, 0xFFFFFF00},
	}
	var out []Case
	for _, d := range list {
		x := AwayFromZero(1e-3, 2)
		fwd := backend.DropoutFwd{N: uint32(d.n), Seed: d.seed, Step: d.step, Offset: d.offset, P: d.p, Scale: backend.DropoutScale(d.p)}
		bwd := backend.DropoutBwd(fwd)
		c := Case{Name: d.name, Params: fwd, Init: []Gen{x, nil}}
		if d.inplace {
			c.Alias = map[int]int{1: 0}
		}
		out = append(out, c,
			Case{Name: d.name, Params: bwd, Init: []Gen{x, nil}})
	}
	return out
}

func biasCases() []Case {
	var out []Case
	for _, s := range [][2]int{{1, 1}, {3, 7}, {129, 10}, {17, 4099}, {64, 4096}, {2, 65537}} {
		rows, cols := uint32(s[0]), uint32(s[1])
		name := fmt.Sprintf("%dx%d", s[0], s[1])
		out = append(out,
			Case{Name: name, Params: backend.BiasAdd{Rows: rows, Cols: cols},
				Init: []Gen{Symmetric(1), Symmetric(0.5)}},
			Case{Name: name + "_relu", Params: backend.BiasAdd{Rows: rows, Cols: cols, Relu: 1},
				Init: []Gen{Symmetric(1), Symmetric(0.5)}},
			Case{Name: name, Params: backend.BiasGrad{Rows: rows, Cols: cols},
				Init: []Gen{FanIn(s[0]), nil}},
		)
	}
	out = append(out, Case{Name: "rows2049x3", Params: backend.BiasGrad{Rows: 2049, Cols: 3},
		Init: []Gen{FanIn(2049), nil}})
	for _, s := range [][2]int{{3, 7}, {129, 10}, {2049, 3}} {
		rows, cols := uint32(s[0]), uint32(s[1])
		out = append(out, Case{Name: fmt.Sprintf("%dx%d_mask_relu", s[0], s[1]),
			Params: backend.BiasGrad{Rows: rows, Cols: cols, MaskRelu: 1},
			Init:   []Gen{FanIn(s[0]), nil, Symmetric(1)}})
	}
	return out
}

func softmaxCases() []Case {
	type sc struct {
		name string
		n, c int
		x    Gen
	}
	list := []sc{
		{"n1_c1", 1, 1, Symmetric(4)},
		{"n1_c10", 1, 10, Symmetric(4)},
		{"n3_c7", 3, 7, Symmetric(4)},
		{"n128_c10", 128, 10, Symmetric(4)},
		{"n129_c1000", 129, 1000, Symmetric(4)},
		{"n33_c1025", 33, 1025, Symmetric(4)},
		// Small integers: ties, the first maximal index counts as predicted.
		{"ties_n65_c10", 65, 10, Ints(0, 3)},
		// Logits beyond exp's float32 range: needs max-subtraction.
		{"large_logits_n17_c10", 17, 10, Uniform(90, 100)},
		{"very_negative_n17_c10", 17, 10, Uniform(-120, -100)},
	}
	var out []Case
	for _, s := range list {
		out = append(out, Case{Name: s.name, Params: backend.SoftmaxXent{N: uint32(s.n), C: uint32(s.c)},
			Init: []Gen{s.x, Ints(0, s.c), nil, nil}})
	}
	return out
}

func adamCases() []Case {
	type ac struct {
		name            string
		n               int
		lr, b1, b2, eps float64
		t               int
		zeros           float64
	}
	list := []ac{
		{"n1_t1", 1, 1e-3, 0.9, 0.999, 1e-8, 1, 0},
		{"n7_t2", 7, 1e-3, 0.9, 0.999, 1e-8, 2, 0},
		{"n4099_t10_zeros", 4099, 1e-3, 0.9, 0.999, 1e-8, 10, 0.1},
		{"n65537_t1000", 65537, 1e-3, 0.9, 0.999, 1e-8, 1000, 0},
		{"n129_lr0.1_t1", 129, 0.1, 0.9, 0.999, 1e-8, 1, 0},
		{"n33_betas0.5_0.9_eps1e-6", 33, 1e-2, 0.5, 0.9, 1e-6, 3, 0},
	}
	var out []Case
	for _, a := range list {
		zeroed := func(g Gen) Gen {
			if a.zeros == 0 {
				return g
			}
			return WithZeros(g, a.zeros)
		}
		out = append(out, Case{Name: a.name, Params: backend.NewAdam(a.n, a.lr, a.b1, a.b2, a.eps, a.t),
			Init: []Gen{Symmetric(1), zeroed(Symmetric(0.1)), zeroed(Symmetric(0.1)), zeroed(Uniform(0, 0.01))}})
	}
	return out
}

func blasCases() []Case {
	var out []Case
	fills := []float32{0, -3.5, 1e-3}
	alphas := []float32{1, -0.5, 0, 3}
	for i, n := range []int{1, 13, 33, 1025, 65537} {
		out = append(out,
			Case{Name: fmt.Sprintf("n%d_v%g", n, fills[i%len(fills)]), Params: backend.Fill{N: uint32(n), Value: fills[i%len(fills)]},
				Init: []Gen{nil}},
			Case{Name: fmt.Sprintf("n%d_a%g", n, alphas[i%len(alphas)]), Params: backend.Axpy{N: uint32(n), Alpha: alphas[i%len(alphas)]},
				Init: []Gen{Symmetric(1), Symmetric(1)}},
			Case{Name: fmt.Sprintf("n%d_a%g", n, alphas[(i+1)%len(alphas)]), Params: backend.Scale{N: uint32(n), Alpha: alphas[(i+1)%len(alphas)]},
				Init: []Gen{Symmetric(1)}},
		)
	}
	return out
}

func resizeCases() []Case {
	type rc struct {
		name                    string
		n, inH, inW, outH, outW int
	}
	list := []rc{
		{"fashion_28_to_224", 2, 28, 28, 224, 224},
		{"down_29x31_to_13x7", 3, 29, 31, 13, 7},
		{"identity_7", 2, 7, 7, 7, 7},
		{"1x1_to_3x5", 2, 1, 1, 3, 5},
		{"mixed_5x40_to_17x9", 1, 5, 40, 17, 9},
		{"down_2x_16_to_8", 2, 16, 16, 8, 8},
		{"odd_bytes_5x7_to_9x3", 3, 5, 7, 9, 3},
		{"down_227_to_28", 1, 227, 227, 28, 28},
		{"up_3x2_to_65x33", 1, 3, 2, 65, 33},
	}
	var out []Case
	for _, r := range list {
		for packed := range uint32(2) {
			p := backend.ResizeBilinear{N: uint32(r.n), InH: uint32(r.inH), InW: uint32(r.inW),
				OutH: uint32(r.outH), OutW: uint32(r.outW), Packed: packed}
			name := r.name
			if packed != 0 {
				name += "_packed"
			}
			out = append(out, Case{Name: name, Params: p,
				Init: []Gen{Bytes(r.n*r.inH*r.inW, packed != 0), nil}})
		}
	}
	return out
}

// Cases returns every case of the suite, grouped by kernel in the order of
// backend.Kernels(). Every other case (in that order) has Slack 5.
func Cases() []Case {
	var all []Case
	for _, f := range []func() []Case{convCases, poolCases, reluCases, dropoutCases, gemmCases,
		biasCases, softmaxCases, adamCases, blasCases, resizeCases, countNonfiniteCases, winogradCases} {
		all = append(all, f()...)
	}
	var out []Case
	for _, k := range backend.Kernels() {
		for _, c := range all {
			if c.Kernel() == k {
				if len(out)%2 == 1 {
					c.Slack = 5
				}
				out = append(out, c)
			}
		}
	}
	return out
}
