package backendtest

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// winogradShape is one named stride-1 geometry of the Winograd
// transforms: n images of c channels, h x w planes, padding ph, pw, an r x
// s kernel (3x3 when r is 0).
type winogradShape struct {
	name           string
	n, c, h, w, ph int
	pw, r, s       int
}

func winogradShapes() []winogradShape {
	return []winogradShape{
		{"tiny_1x1_p1", 1, 1, 1, 1, 1, 1, 0, 0},
		{"odd_7x9_p1", 2, 3, 7, 9, 1, 1, 0, 0},
		{"odd_9x5_p0", 3, 5, 9, 5, 0, 0, 0, 0},
		{"odd_6x7_p2", 2, 3, 6, 7, 2, 2, 0, 0},
		{"rect_8x7_p1x0", 1, 2, 8, 7, 1, 0, 0, 0},
		{"batch1_c17_11x13_p1", 1, 17, 11, 13, 1, 1, 0, 0},
		// Six tiles per image, two images: the four-tile forms' groups
		// straddle the images.
		{"straddle_3x5_batch2_p1", 2, 3, 3, 5, 1, 1, 0, 0},
		// AlexNet's 3x3 layers (conv.6, conv.8, conv.10) with their real
		// channels, planes scaled down from 12x12, and conv.8 at full size;
		// the input gradients' inputs (dy, padding 2-1 = 1) likewise.
		{"alexnet_conv6", 2, 256, 6, 6, 1, 1, 0, 0},
		{"alexnet_conv8", 1, 384, 5, 5, 1, 1, 0, 0},
		{"alexnet_conv10", 2, 384, 5, 5, 1, 1, 0, 0},
		{"alexnet_conv8_full_12", 1, 384, 12, 12, 1, 1, 0, 0},
		// Kernels over 3x3 as 3x3 blocks: 5x5 (AlexNet's conv.3, 96
		// channels, plane scaled down from 26x26; each 5x5 case also as
		// F(2x2,5x5), "_f25"), 4x6 and 6x4, a partial block and windows
		// past every edge. AlexNet's conv.3
		// filter and filter-gradient widths run in the pipeline checks.
		{"k5_tiny_1x1_p2", 1, 1, 1, 1, 2, 2, 5, 5},
		{"k5_odd_7x9_p2", 2, 3, 7, 9, 2, 2, 5, 5},
		{"k5_batch1_c5_9x5_p0x1", 1, 5, 9, 5, 0, 1, 5, 5},
		{"k4x6_odd_7x8_p1x2", 2, 3, 7, 8, 1, 2, 4, 6},
		{"k6x4_odd_9x6_p3x0", 1, 4, 9, 6, 3, 0, 6, 4},
		{"k5_alexnet_conv3", 1, 96, 7, 7, 2, 2, 5, 5},
		{"k5_straddle_5x3_batch2_p2", 2, 3, 5, 3, 2, 2, 5, 5},
	}
}

// winogradInputOf is s's input transform.
func winogradInputOf(s winogradShape) backend.WinogradInput {
	r, k := max(s.r, 3), max(s.s, 3)
	return backend.WinogradInput{N: uint32(s.n), C: uint32(s.c), H: uint32(s.h), W: uint32(s.w),
		PadH: uint32(s.ph), PadW: uint32(s.pw), R: uint32(r), S: uint32(k),
		OH: uint32(s.h + 2*s.ph - r + 1), OW: uint32(s.w + 2*s.pw - k + 1)}
}

func winogradCases() []Case {
	var out []Case
	for _, s := range winogradShapes() {
		out = append(out, Case{Name: s.name, Params: winogradInputOf(s), Init: []Gen{Symmetric(1), nil}})
		if s.name == "odd_7x9_p1" || s.name == "odd_6x7_p2" || s.name == "k5_odd_7x9_p2" || s.name == "straddle_3x5_batch2_p1" {
			p := winogradInputOf(s)
			p.MaskRelu = 1
			out = append(out, Case{Name: s.name + "_mask_relu", Params: p, Init: []Gen{Symmetric(1), nil, Symmetric(1)}})
		}
		if s.r == 5 && s.s == 5 { // the same windows as one F(2x2,5x5) block
			p := winogradInputOf(s)
			p.K5 = 1
			out = append(out, Case{Name: s.name + "_f25", Params: p, Init: []Gen{Symmetric(1), nil}})
			if s.name == "k5_odd_7x9_p2" || s.name == "k5_straddle_5x3_batch2_p2" {
				p.MaskRelu = 1
				out = append(out, Case{Name: s.name + "_f25_mask_relu", Params: p, Init: []Gen{Symmetric(1), nil, Symmetric(1)}})
			}
		}
	}
	for _, s := range []winogradShape{{"k5_odd_13x11_p2", 2, 3, 13, 11, 2, 2, 5, 5}, {"k5_c7_10x12_p1x0", 3, 7, 10, 12, 1, 0, 5, 5}} {
		p := winogradInputOf(s)
		p.K5 = 1
		out = append(out, Case{Name: s.name + "_f25", Params: p, Init: []Gen{Symmetric(1), nil}})
	}
	out = append(out, winograd4Cases()...)
	filters := []struct {
		name       string
		k, c, r, s int
	}{{"1x1", 1, 1, 3, 3}, {"k3_c5", 3, 5, 3, 3}, {"k17_c33", 17, 33, 3, 3}, {"alexnet_conv6", 384, 256, 3, 3},
		{"alexnet_conv8", 384, 384, 3, 3}, {"alexnet_conv10", 256, 384, 3, 3},
		{"r5_1x1", 1, 1, 5, 5}, {"r5_k7_c5", 7, 5, 5, 5}, {"r4x6_k3_c2", 3, 2, 4, 6}, {"r6x4_k2_c3", 2, 3, 6, 4},
		{"r5_k33_c17", 33, 17, 5, 5}, {"r5_alexnet_conv3", 256, 96, 5, 5}}
	for _, f := range filters {
		for bwd := range uint32(2) {
			name := f.name
			if bwd != 0 {
				name += "_bwd_data"
			}
			p := backend.WinogradFilter{K: uint32(f.k), C: uint32(f.c), R: uint32(f.r), S: uint32(f.s), BwdData: bwd}
			out = append(out, Case{Name: name, Params: p, Init: []Gen{FanIn(f.r * f.s * f.c), nil}})
			if f.r == 5 && f.s == 5 {
				p.K5 = 1
				out = append(out, Case{Name: name + "_f25", Params: p, Init: []Gen{FanIn(f.r * f.s * f.c), nil}})
			}
		}
	}
	outputs := []struct {
		name            string
		n, k, oh, ow, b int
	}{
		{"tiny_1x1", 1, 1, 1, 1, 1},
		{"odd_7x9", 2, 3, 7, 9, 1},
		{"odd_7x3", 3, 5, 7, 3, 0},
		{"even_8x10", 1, 17, 8, 10, 0},
		{"batch1_k33_5x5", 1, 33, 5, 5, 1},
		{"alexnet_conv6", 2, 384, 6, 6, 1},
		{"alexnet_conv10_bwd_data", 2, 384, 5, 5, 0},
		{"alexnet_conv8_full_12", 1, 384, 12, 12, 1},
	}
	for _, o := range outputs {
		p := backend.WinogradOutput{N: uint32(o.n), K: uint32(o.k), OH: uint32(o.oh), OW: uint32(o.ow), Bias: uint32(o.b)}
		name := o.name
		if o.b != 0 {
			name += "_bias"
		}
		out = append(out, Case{Name: name, Params: p, Init: []Gen{Symmetric(1), Symmetric(0.5), nil}})
		if o.name == "odd_7x9" || o.name == "odd_7x3" {
			p.Relu = 1
			out = append(out, Case{Name: name + "_relu", Params: p, Init: []Gen{Symmetric(1), Symmetric(0.5), nil}})
		}
		if o.name != "alexnet_conv6" && o.name != "alexnet_conv8_full_12" { // F(2x2,5x5)'s 36 points
			p.K5 = 1
			out = append(out, Case{Name: name + "_f25", Params: p, Init: []Gen{Symmetric(1), Symmetric(0.5), nil}})
		}
	}
	p := backend.WinogradOutput{N: 2, K: 256, OH: 7, OW: 7, Bias: 1, K5: 1} // AlexNet's conv.3, plane scaled down
	out = append(out, Case{Name: "alexnet_conv3_bias_f25", Params: p, Init: []Gen{Symmetric(1), Symmetric(0.5), nil}})
	return append(out, winogradGradCases()...)
}

// winograd4Cases are the F(4x4,3x3) (F4) cases of the three transforms:
// every 3x3 input shape of winogradShapes (partial 4x4 tiles, windows past
// every edge, batch 1, AlexNet's channels) and cpu-quick's 3x3 planes (one
// tile per image), with and without the ReLU mask; filters of odd counts
// and AlexNet's, forward and rotated; outputs of odd and even planes with
// and without bias and the ReLU clamp.
func winograd4Cases() []Case {
	var out []Case
	shapes := append(winogradShapes(), winogradShape{"cpu_quick_conv8_3x3", 3, 192, 3, 3, 1, 1, 0, 0},
		winogradShape{"odd_13x11_p1", 2, 5, 13, 11, 1, 1, 0, 0}, winogradShape{"tiles4_straddle_5x9_batch3_p0", 3, 2, 5, 9, 0, 0, 0, 0})
	for _, s := range shapes { // the kernels over 3x3 as F(4x4,3x3) blocks too
		p := winogradInputOf(s)
		p.F4 = 1
		out = append(out, Case{Name: s.name + "_f43", Params: p, Init: []Gen{Symmetric(1), nil}})
		if s.name == "odd_7x9_p1" || s.name == "cpu_quick_conv8_3x3" || s.name == "straddle_3x5_batch2_p1" || s.name == "k5_odd_7x9_p2" {
			p.MaskRelu = 1
			out = append(out, Case{Name: s.name + "_f43_mask_relu", Params: p, Init: []Gen{Symmetric(1), nil, Symmetric(1)}})
		}
	}
	for _, f := range []struct {
		name       string
		k, c, r, s int
	}{{"1x1", 1, 1, 3, 3}, {"k3_c5", 3, 5, 3, 3}, {"k17_c33", 17, 33, 3, 3}, {"cpu_quick_conv8", 192, 192, 3, 3},
		{"alexnet_conv6", 384, 256, 3, 3}, {"r5_k7_c5", 7, 5, 5, 5}, {"r4x6_k3_c2", 3, 2, 4, 6}, {"r6x4_k2_c3", 2, 3, 6, 4},
		{"r5_cpu_quick_conv3", 128, 48, 5, 5}} {
		for bwd := range uint32(2) {
			name := f.name + "_f43"
			if bwd != 0 {
				name += "_bwd_data"
			}
			p := backend.WinogradFilter{K: uint32(f.k), C: uint32(f.c), R: uint32(f.r), S: uint32(f.s), BwdData: bwd, F4: 1}
			out = append(out, Case{Name: name, Params: p, Init: []Gen{FanIn(f.r * f.s * f.c), nil}})
		}
	}
	for _, o := range []struct {
		name                  string
		n, k, oh, ow, b, relu int
	}{
		{"tiny_1x1", 1, 1, 1, 1, 1, 0}, {"odd_7x9", 2, 3, 7, 9, 1, 0}, {"odd_7x9", 2, 3, 7, 9, 1, 1},
		{"odd_13x5", 3, 5, 13, 5, 0, 1}, {"even_8x12", 1, 17, 8, 12, 0, 0}, {"cpu_quick_conv8_3x3", 3, 192, 3, 3, 1, 0},
		{"alexnet_conv8_full_12", 1, 384, 12, 12, 1, 1},
	} {
		p := backend.WinogradOutput{N: uint32(o.n), K: uint32(o.k), OH: uint32(o.oh), OW: uint32(o.ow), Bias: uint32(o.b), Relu: uint32(o.relu), F4: 1}
		name := o.name
		if o.b != 0 {
			name += "_bias"
		}
		if o.relu != 0 {
			name += "_relu"
		}
		out = append(out, Case{Name: name + "_f43", Params: p, Init: []Gen{Symmetric(1), Symmetric(0.5), nil}})
	}
	return append(out, winograd4GradCases()...)
}

// winograd4GradCases are the F(3x3,4x4) (F4) cases of winograd_dy (odd
// planes, partial 4x4 tiles, batch 1 and 3, channels of every remainder
// mod 4 and cpu-quick's, with and without the ReLU mask) and winograd_dw
// (up to 4099 tiles, channels not multiples of 4).
func winograd4GradCases() []Case {
	var out []Case
	for _, d := range []struct {
		name         string
		n, k, oh, ow int
		mask         bool
	}{
		{"tiny_1x1", 1, 1, 1, 1, false}, {"odd_7x9", 2, 3, 7, 9, true}, {"odd_5x3_batch3", 3, 5, 5, 3, false},
		{"even_8x12", 1, 17, 8, 12, false}, {"k6_odd_13x7", 2, 6, 13, 7, true}, {"k8_odd_7x5", 2, 8, 7, 5, true},
		{"k12_odd_3x3_batch3", 3, 12, 3, 3, false}, {"cpu_quick_conv8_3x3", 3, 192, 3, 3, true},
	} {
		p := backend.WinogradDy{N: uint32(d.n), K: uint32(d.k), OH: uint32(d.oh), OW: uint32(d.ow), F4: 1}
		out = append(out, Case{Name: d.name + "_f43", Params: p, Init: []Gen{Symmetric(1), nil}})
		if d.mask {
			p.MaskRelu = 1
			out = append(out, Case{Name: d.name + "_f43_mask_relu", Params: p, Init: []Gen{Symmetric(1), nil, Symmetric(1)}})
		}
	}
	for _, d := range []struct {
		name          string
		k, c, p, r, s int
	}{{"1x1_p1", 1, 1, 1, 3, 3}, {"k3_c5_p7", 3, 5, 7, 3, 3}, {"k2_c3_p4099", 2, 3, 4099, 3, 3}, {"k17_c33_p257", 17, 33, 257, 3, 3},
		{"cpu_quick_conv8", 192, 192, 12, 3, 3}, {"r5_k3_c5_p7", 3, 5, 7, 5, 5}, {"r4x6_k5_c3_p63", 5, 3, 63, 4, 6},
		{"r6x4_k2_c3_p9", 2, 3, 9, 6, 4}, {"r5_cpu_quick_conv3", 128, 48, 8, 5, 5}} {
		p := backend.WinogradDw{K: uint32(d.k), C: uint32(d.c), P: uint32(d.p), R: uint32(d.r), S: uint32(d.s), F4: 1}
		out = append(out, Case{Name: d.name + "_f43", Params: p, Init: []Gen{Symmetric(1), FanIn(d.p), nil, nil}})
	}
	return out
}

// winogradGradCases are the cases of F(3x3,2x2)'s two transforms: dy's
// on odd and even planes (partial tiles), batch 1 and 3, channel counts of
// every remainder mod 4 and AlexNet's channels (multiples of 4 at odd
// planes, with and without the mask, for the four-channel forms), with and
// without the ReLU mask; and the filter transform over up to 4099 tiles (db's sum) with
// channels not multiples of 4. E's values are scaled by 1/sqrt(P), as a
// network's dy, so that db is of order 1.
func winogradGradCases() []Case {
	var out []Case
	dys := []struct {
		name         string
		n, k, oh, ow int
	}{
		{"tiny_1x1", 1, 1, 1, 1},
		{"odd_7x9", 2, 3, 7, 9},
		{"odd_5x3_batch3", 3, 5, 5, 3},
		{"even_8x10", 1, 17, 8, 10},
		{"batch1_k33_5x5", 1, 33, 5, 5},
		{"k6_odd_3x7", 2, 6, 3, 7},
		{"k8_odd_7x5", 2, 8, 7, 5},
		{"k12_odd_3x3_batch3", 3, 12, 3, 3},
		{"alexnet_conv6", 2, 384, 6, 6},
		{"alexnet_conv8_full_12", 1, 384, 12, 12},
	}
	for _, d := range dys {
		p := backend.WinogradDy{N: uint32(d.n), K: uint32(d.k), OH: uint32(d.oh), OW: uint32(d.ow)}
		out = append(out, Case{Name: d.name, Params: p, Init: []Gen{Symmetric(1), nil}})
		if d.name == "odd_7x9" || d.name == "odd_5x3_batch3" || d.name == "k6_odd_3x7" || d.name == "k8_odd_7x5" {
			p.MaskRelu = 1
			out = append(out, Case{Name: d.name + "_mask_relu", Params: p, Init: []Gen{Symmetric(1), nil, Symmetric(1)}})
		}
		if d.name != "alexnet_conv6" && d.name != "alexnet_conv8_full_12" { // F(5x5,2x2)'s 36 points
			p.K5 = 1
			out = append(out, Case{Name: d.name + "_f25", Params: p, Init: []Gen{Symmetric(1), nil, Symmetric(1)}[:len(p.Buffers())]})
		}
	}
	dws := []struct {
		name          string
		k, c, p, r, s int
	}{
		{"1x1_p1", 1, 1, 1, 3, 3},
		{"k3_c5_p7", 3, 5, 7, 3, 3},
		{"k5_c3_p63", 5, 3, 63, 3, 3},
		{"k2_c3_p4099", 2, 3, 4099, 3, 3},
		{"k17_c33_p1025", 17, 33, 1025, 3, 3},
		{"alexnet_conv6", 384, 256, 72, 3, 3},
		{"alexnet_conv10", 256, 384, 18, 3, 3},
		{"alexnet_conv8", 384, 384, 18, 3, 3},
		{"k31_c7_p576_batch16_12", 31, 7, 576, 3, 3},
		{"r5_1x1_p1", 1, 1, 1, 5, 5},
		{"r5_k3_c5_p7", 3, 5, 7, 5, 5},
		{"r4x6_k5_c3_p63", 5, 3, 63, 4, 6},
		{"r6x4_k2_c3_p9", 2, 3, 9, 6, 4},
		{"r5_k33_c17_p25", 33, 17, 25, 5, 5},
	}
	for _, d := range dws {
		p := backend.WinogradDw{K: uint32(d.k), C: uint32(d.c), P: uint32(d.p), R: uint32(d.r), S: uint32(d.s)}
		out = append(out, Case{Name: d.name, Params: p, Init: []Gen{Symmetric(1), FanIn(d.p), nil, nil}})
		if d.r == 5 && d.s == 5 {
			p.K5 = 1
			out = append(out, Case{Name: d.name + "_f25", Params: p, Init: []Gen{Symmetric(1), FanIn(d.p), nil, nil}})
		}
	}
	for _, d := range []struct {
		name    string
		k, c, p int
	}{{"r5_k2_c3_p4099_f25", 2, 3, 4099}, {"r5_alexnet_conv3_f25", 256, 96, 49}} {
		p := backend.WinogradDw{K: uint32(d.k), C: uint32(d.c), P: uint32(d.p), R: 5, S: 5, K5: 1}
		out = append(out, Case{Name: d.name, Params: p, Init: []Gen{Symmetric(1), FanIn(d.p), nil, nil}})
	}
	return out
}

// winogradName is the case name of a pipeline check of geometry g.
func winogradName(g backend.Conv2DShape, backwardData bool) string {
	pass := "fwd"
	if backwardData {
		pass = "bwd_data"
	}
	return fmt.Sprintf("winograd_%s_n%d_c%d_k%d_%dx%d_p%dx%d%s", pass, g.N, g.C, g.K, g.H, g.W, g.PadH, g.PadW, kernelSuffix(g))
}

// kernelSuffix is "" for a 3x3 kernel, else e.g. "_r5x5".
func kernelSuffix(g backend.Conv2DShape) string {
	if g.R == 3 && g.S == 3 {
		return ""
	}
	return fmt.Sprintf("_r%dx%d", g.R, g.S)
}

// winogradGradName is the case name of a filter-gradient pipeline check
// of geometry g.
func winogradGradName(g backend.Conv2DShape) string {
	return fmt.Sprintf("winograd_bwd_filter_n%d_c%d_k%d_%dx%d_p%dx%d%s", g.N, g.C, g.K, g.H, g.W, g.PadH, g.PadW, kernelSuffix(g))
}
