package backendtest

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// convShape is one named convolution geometry, run through all three conv
// kernels.
type convShape struct {
	name  string
	g     backend.Conv2DShape
	large bool
}

func convShapes() []convShape {
	rect := backend.Conv2DShape{N: 3, C: 5, H: 13, W: 17, K: 7, R: 3, S: 5,
		StrideH: 2, StrideW: 1, PadH: 1, PadW: 2}
	rect.OH = (rect.H+2*rect.PadH-rect.R)/rect.StrideH + 1
	rect.OW = (rect.W+2*rect.PadW-rect.S)/rect.StrideW + 1
	return []convShape{
		{"tiny_1x1", backend.NewConv2DShape(1, 1, 3, 3, 1, 1, 1, 1, 0), false},
		{"3x3_pad1", backend.NewConv2DShape(2, 3, 7, 7, 5, 3, 3, 1, 1), false},
		{"rect_stride2x1_pad1x2", rect, false},
		{"stride3_k1", backend.NewConv2DShape(1, 2, 9, 9, 3, 1, 1, 3, 0), false},
		{"pad2_k3", backend.NewConv2DShape(1, 2, 5, 5, 3, 3, 3, 1, 2), false},
		{"kernel_eq_input", backend.NewConv2DShape(2, 4, 5, 5, 3, 5, 5, 1, 0), false},
		{"c33_k31", backend.NewConv2DShape(2, 33, 6, 6, 31, 3, 3, 1, 1), false},
		{"c17_k65_k2s2", backend.NewConv2DShape(1, 17, 7, 5, 65, 2, 2, 2, 0), false},
		{"batch1_k129_s2", backend.NewConv2DShape(1, 3, 11, 11, 129, 3, 3, 2, 1), false},
		{"batch13_c7", backend.NewConv2DShape(13, 7, 9, 9, 13, 3, 3, 1, 1), false},
		// Filter lengths C*R*S that 4 divides (4-wide filter loads), with
		// odd channels out, planes and batches and over 32 output columns.
		{"c4_k3_k13_crs36", backend.NewConv2DShape(3, 4, 9, 7, 13, 3, 3, 1, 1), false},
		{"c4_k5_k33_crs100", backend.NewConv2DShape(2, 4, 7, 9, 33, 5, 5, 1, 2), false},
		{"c3_k2s2_k7_crs12", backend.NewConv2DShape(3, 3, 13, 11, 7, 2, 2, 2, 0), false},
		// Two channels of AlexNet's 11x11 stride-4 kernel: filter indices
		// from 121 up, which a float reciprocal of 121 alone truncates one
		// too low (the Vulkan texel variants correct it).
		{"c2_k11s4_k5_crs242", backend.NewConv2DShape(2, 2, 23, 23, 5, 11, 11, 4, 1), false},
		// Stride 1 with K*R*S a multiple of 4: the input gradient's forward
		// form (the Vulkan fwd=1 configurations) with 4-wide loads of the
		// rotated filter, at the full padding, a smaller one and none.
		{"k12_c7_3x3_krs108", backend.NewConv2DShape(3, 7, 9, 7, 12, 3, 3, 1, 1), false},
		{"k8_c5_5x5_pad2_krs200", backend.NewConv2DShape(2, 5, 7, 9, 8, 5, 5, 1, 2), false},
		{"k16_c3_5x5_pad1_krs400", backend.NewConv2DShape(2, 3, 8, 7, 16, 5, 5, 1, 1), false},
		{"k4_c9_3x3_pad0_krs36", backend.NewConv2DShape(5, 9, 8, 11, 4, 3, 3, 1, 0), false},
		// N*OH*OW a multiple of 4: the filter gradient's forward form with
		// 4-wide loads of dy (the Vulkan fwd=1 configurations).
		{"n4_c6_k10_3x3_nohw140", backend.NewConv2DShape(4, 6, 5, 7, 10, 3, 3, 1, 1), false},
		// AlexNet's layers with the real channels, kernels, strides and
		// padding; spatial size scaled down from 224 (conv1 35x35 -> 7x7).
		{"alexnet_conv1", backend.NewConv2DShape(2, 1, 35, 35, 96, 11, 11, 4, 1), false},
		{"alexnet_conv2", backend.NewConv2DShape(2, 96, 7, 7, 256, 5, 5, 1, 2), true},
		{"alexnet_conv3", backend.NewConv2DShape(2, 256, 6, 6, 384, 3, 3, 1, 1), true},
		{"alexnet_conv4", backend.NewConv2DShape(1, 384, 5, 5, 384, 3, 3, 1, 1), true},
		{"alexnet_conv5", backend.NewConv2DShape(2, 384, 5, 5, 256, 3, 3, 1, 1), true},
		// Full-size layers at batch 1: conv1 on the real 224x224 input
		// (54x54 output), conv3 on the real 12x12 planes.
		{"alexnet_conv1_full_224", backend.NewConv2DShape(1, 1, 224, 224, 96, 11, 11, 4, 1), true},
		{"alexnet_conv3_full_12", backend.NewConv2DShape(1, 256, 12, 12, 384, 3, 3, 1, 1), true},
		// Short-mode stand-ins with AlexNet's channel counts, 3x3 spatial.
		{"alexnet_conv2_small", backend.NewConv2DShape(1, 96, 3, 3, 256, 5, 5, 1, 2), false},
		{"alexnet_conv4_small", backend.NewConv2DShape(1, 384, 3, 3, 384, 3, 3, 1, 1), false},
	}
}

// reluConvShapes names the convShapes run as conv2d_fwd with Relu too
// (odd sizes, batch 1, partial tiles, a stride that does not divide).
var reluConvShapes = map[string]bool{"tiny_1x1": true, "rect_stride2x1_pad1x2": true, "c33_k31": true,
	"batch1_k129_s2": true, "batch13_c7": true, "c4_k5_k33_crs100": true, "alexnet_conv2_small": true, "alexnet_conv3": true}

// maskConvShapes names the convShapes run as conv2d_bwd_data and
// conv2d_bwd_filter with MaskRelu too (a direct and a tiled input
// gradient, stride phases, more channels than a tile, full tiles of
// channels over more pixels than a slab: the vector copies).
var maskConvShapes = map[string]bool{"3x3_pad1": true, "rect_stride2x1_pad1x2": true, "c33_k31": true,
	"batch1_k129_s2": true, "k16_c3_5x5_pad1_krs400": true}

func convCases() []Case {
	var out []Case
	for _, s := range convShapes() {
		if reluConvShapes[s.name] {
			out = append(out, Case{Name: s.name + "_relu", Params: backend.Conv2DFwd{Conv2DShape: s.g, Relu: 1}, Large: s.large,
				Init: []Gen{Symmetric(1), FanIn(int(s.g.C * s.g.R * s.g.S)), Symmetric(0.5), nil}})
		}
		g := s.g
		fanFwd := int(g.C * g.R * g.S)
		fanData := int(g.K * g.R * g.S)
		fanFilter := int(g.N * g.OH * g.OW)
		out = append(out,
			Case{Name: s.name, Params: backend.Conv2DFwd{Conv2DShape: g}, Large: s.large,
				Init: []Gen{Symmetric(1), FanIn(fanFwd), Symmetric(0.5), nil}},
			Case{Name: s.name, Params: backend.Conv2DBwdData{Conv2DShape: g}, Large: s.large,
				Init: []Gen{Symmetric(1), FanIn(fanData), nil}},
			Case{Name: s.name, Params: backend.Conv2DBwdFilter{Conv2DShape: g}, Large: s.large,
				Init: []Gen{Symmetric(1), FanIn(fanFilter), nil, nil}},
		)
		if maskConvShapes[s.name] {
			out = append(out,
				Case{Name: s.name + "_mask_relu", Params: backend.Conv2DBwdData{Conv2DShape: g, MaskRelu: 1}, Large: s.large,
					Init: []Gen{Symmetric(1), FanIn(fanData), nil, Symmetric(1)}},
				Case{Name: s.name + "_mask_relu", Params: backend.Conv2DBwdFilter{Conv2DShape: g, MaskRelu: 1}, Large: s.large,
					Init: []Gen{Symmetric(1), FanIn(fanFilter), nil, nil, Symmetric(1)}},
			)
		}
	}
	return out
}

// poolShape is one named pooling geometry with the forward input generator.
type poolShape struct {
	name string
	g    backend.Pool2DShape
	x    Gen
}

func poolShapes() []poolShape {
	rect := backend.Pool2DShape{N: 2, C: 3, H: 17, W: 13, KH: 3, KW: 2,
		StrideH: 2, StrideW: 1, PadH: 1, PadW: 0}
	rect.OH = (rect.H+2*rect.PadH-rect.KH)/rect.StrideH + 1
	rect.OW = (rect.W+2*rect.PadW-rect.KW)/rect.StrideW + 1
	x := Symmetric(1)
	return []poolShape{
		{"tiny_3x3", backend.NewPool2DShape(1, 1, 3, 3, 3, 2, 0), x},
		{"2x2s2_odd_edges", backend.NewPool2DShape(2, 3, 7, 9, 2, 2, 0), x},
		{"3x3s2_pad1", backend.NewPool2DShape(1, 5, 13, 13, 3, 2, 1), x},
		{"3x3s1_overlap", backend.NewPool2DShape(2, 3, 7, 7, 3, 1, 0), x},
		{"rect_k3x2_s2x1_pad1x0", rect, x},
		// Small integers: many ties, the first maximum in row-major window
		// order must win.
		{"ties", backend.NewPool2DShape(2, 4, 9, 9, 3, 2, 0), Ints(0, 3)},
		{"ties_pad1", backend.NewPool2DShape(1, 3, 8, 8, 3, 2, 1), Ints(-1, 1)},
		// All negative with padding: padded positions are -inf, not 0.
		{"negative_pad1", backend.NewPool2DShape(2, 2, 6, 6, 3, 2, 1), Uniform(-2, -1)},
		{"plane_65", backend.NewPool2DShape(1, 2, 65, 65, 3, 2, 0), x},
		// AlexNet's pools (3/2) on the scaled-down planes.
		{"alexnet_pool1", backend.NewPool2DShape(2, 96, 7, 7, 3, 2, 0), x},
		{"alexnet_pool2", backend.NewPool2DShape(2, 256, 7, 7, 3, 2, 0), x},
		{"alexnet_pool5", backend.NewPool2DShape(2, 256, 5, 5, 3, 2, 0), x},
		{"alexnet_pool1_full_54", backend.NewPool2DShape(1, 96, 54, 54, 3, 2, 0), x},
	}
}

func poolCases() []Case {
	var out []Case
	for _, s := range poolShapes() {
		out = append(out,
			Case{Name: s.name, Params: backend.MaxPoolFwd{Pool2DShape: s.g},
				Init: []Gen{s.x, nil, nil}},
			Case{Name: s.name, Params: backend.MaxPoolBwd{Pool2DShape: s.g},
				Init: []Gen{Symmetric(1), PoolIdx(s.g), nil}},
		)
	}
	return out
}

// gemmShape is one named M, N, K.
type gemmShape struct {
	name    string
	m, n, k int
}

func gemmCases() []Case {
	shapes := []gemmShape{
		{"1x1x1", 1, 1, 1},
		{"3x7x13", 3, 7, 13},
		{"17x31x33", 17, 31, 33},
		{"65x129x17", 65, 129, 17},
		{"129x65x33", 129, 65, 33},
		{"m7_n1_k129", 7, 1, 129},
		{"m1_n129_k65", 1, 129, 65},
		{"k1_33x17", 33, 17, 1},
		{"257x253x129", 257, 253, 129},
		// Multiples of 4 (K odd in the second) that are no tile's: the
		// 4-wide loads of every operand layout, partial tiles, k remainders.
		{"36x52x44", 36, 52, 44},
		{"44x36x45", 44, 36, 45},
	}
	ab := [][2]float32{{1, 0}, {0.5, 1}, {-1.25, 0}, {1, 1}, {2, 0.5}}
	var out []Case
	i := 0
	for _, s := range shapes {
		for ta := range uint32(2) {
			for tb := range uint32(2) {
				alpha, beta := ab[i%len(ab)][0], ab[i%len(ab)][1]
				i++
				name := fmt.Sprintf("%s_%s_a%g_b%g", s.name, transName(ta, tb), alpha, beta)
				out = append(out, gemmCase(name, s.m, s.n, s.k, ta, tb, alpha, beta, false))
			}
		}
	}
	// AlexNet's classifier scaled down to 257 -> 129 -> 129 -> 10 at batch 3:
	// forward y = x*W^T (W stored out x in), backward dx = dy*W, dW = dy^T*x
	// (accumulated once with Beta 1).
	layers := []struct {
		name    string
		in, out int
	}{{"fc1", 257, 129}, {"fc2", 129, 129}, {"fc3", 129, 10}}
	const b = 3
	for _, l := range layers {
		out = append(out,
			gemmCase("alexnet_"+l.name+"_fwd", b, l.out, l.in, 0, 1, 1, 0, false),
			gemmCase("alexnet_"+l.name+"_bwd_data", b, l.in, l.out, 0, 0, 1, 0, false),
			gemmCase("alexnet_"+l.name+"_bwd_weight", l.out, l.in, b, 1, 0, 1, 0, false),
			gemmCase("alexnet_"+l.name+"_bwd_weight_acc", l.out, l.in, b, 1, 0, 1, 1, false),
		)
	}
	// Batches of three products with odd sizes, every transpose pair, Beta
	// zero and not (Winograd's 16 products of its transformed tiles).
	for i, s := range []gemmShape{{"23x37x29", 23, 37, 29}, {"31x21x39", 31, 21, 39}} {
		for ta := range uint32(2) {
			for tb := range uint32(2) {
				beta := float32(i) * 0.5
				c := gemmCase(fmt.Sprintf("batch3_%s_%s_b%g", s.name, transName(ta, tb), beta), s.m, s.n, s.k, ta, tb, 1, beta, false)
				q := c.Params.(backend.Gemm)
				q.Batch = 3
				c.Params = q
				out = append(out, c)
			}
		}
	}
	out = append(out,
		gemmCase("alexnet_fc3_real_batch128", 128, 10, 4096, 0, 1, 1, 0, false),
		gemmCase("alexnet_fc3_real_bwd_weight_batch128", 10, 4096, 128, 1, 0, 1, 0, false),
		gemmCase("alexnet_fc1_real_width_batch1", 1, 4096, 6400, 0, 1, 1, 0, true),
		gemmCase("alexnet_fc2_real_width_batch1", 1, 4096, 4096, 0, 1, 1, 0, true),
		gemmCase("alexnet_fc1_real_bwd_data_batch2", 2, 6400, 4096, 0, 0, 1, 0, true),
	)
	return out
}

func transName(ta, tb uint32) string {
	return string("NT"[ta]) + string("NT"[tb])
}

func gemmCase(name string, m, n, k int, ta, tb uint32, alpha, beta float32, large bool) Case {
	p := backend.Gemm{M: uint32(m), N: uint32(n), K: uint32(k), TransA: ta, TransB: tb, Alpha: alpha, Beta: beta}
	var c Gen // Beta == 0: C is output only, poisoned with NaN that must not leak
	if beta != 0 {
		c = Symmetric(1)
	}
	return Case{Name: name, Params: p, Large: large,
		Init: []Gen{Symmetric(1), FanIn(k), c}}
}
