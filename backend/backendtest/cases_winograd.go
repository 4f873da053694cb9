package backendtest

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// winogradShape is one named 3x3 stride-1 geometry of the Winograd
// transforms: n images of c channels, h x w planes, padding ph, pw.
type winogradShape struct {
	name           string
	n, c, h, w, ph int
	pw             int
}

func winogradShapes() []winogradShape {
	return []winogradShape{
		{"tiny_1x1_p1", 1, 1, 1, 1, 1, 1},
		{"odd_7x9_p1", 2, 3, 7, 9, 1, 1},
		{"odd_9x5_p0", 3, 5, 9, 5, 0, 0},
		{"odd_6x7_p2", 2, 3, 6, 7, 2, 2},
		{"rect_8x7_p1x0", 1, 2, 8, 7, 1, 0},
		{"batch1_c17_11x13_p1", 1, 17, 11, 13, 1, 1},
		// AlexNet's 3x3 layers (conv.6, conv.8, conv.10) with their real
		// channels, planes scaled down from 12x12, and conv.8 at full size;
		// the input gradients' inputs (dy, padding 2-1 = 1) likewise.
		{"alexnet_conv6", 2, 256, 6, 6, 1, 1},
		{"alexnet_conv8", 1, 384, 5, 5, 1, 1},
		{"alexnet_conv10", 2, 384, 5, 5, 1, 1},
		{"alexnet_conv8_full_12", 1, 384, 12, 12, 1, 1},
	}
}

// winogradInputOf is s's input transform.
func winogradInputOf(s winogradShape) backend.WinogradInput {
	return backend.WinogradInput{N: uint32(s.n), C: uint32(s.c), H: uint32(s.h), W: uint32(s.w),
		PadH: uint32(s.ph), PadW: uint32(s.pw), OH: uint32(s.h + 2*s.ph - 2), OW: uint32(s.w + 2*s.pw - 2)}
}

func winogradCases() []Case {
	var out []Case
	for _, s := range winogradShapes() {
		out = append(out, Case{Name: s.name, Params: winogradInputOf(s), Init: []Gen{Symmetric(1), nil}})
		if s.name == "odd_7x9_p1" || s.name == "odd_6x7_p2" {
			p := winogradInputOf(s)
			p.MaskRelu = 1
			out = append(out, Case{Name: s.name + "_mask_relu", Params: p, Init: []Gen{Symmetric(1), nil, Symmetric(1)}})
		}
	}
	filters := []struct {
		name string
		k, c int
	}{{"1x1", 1, 1}, {"k3_c5", 3, 5}, {"k17_c33", 17, 33}, {"alexnet_conv6", 384, 256},
		{"alexnet_conv8", 384, 384}, {"alexnet_conv10", 256, 384}}
	for _, f := range filters {
		for bwd := range uint32(2) {
			name := f.name
			if bwd != 0 {
				name += "_bwd_data"
			}
			out = append(out, Case{Name: name, Params: backend.WinogradFilter{K: uint32(f.k), C: uint32(f.c), BwdData: bwd},
				Init: []Gen{FanIn(9 * f.c), nil}})
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
	}
	return append(out, winogradGradCases()...)
}

// winogradGradCases are the cases of F(3x3,2x2)'s two transforms: dy's
// on odd and even planes (partial tiles), batch 1 and 3, and AlexNet's
// channels, with and without the ReLU mask; and the filter transform over
// up to 4099 tiles (db's sum) with channels not multiples of 4. E's values
// are scaled by 1/sqrt(P), as a network's dy, so that db is of order 1.
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
		{"alexnet_conv6", 2, 384, 6, 6},
		{"alexnet_conv8_full_12", 1, 384, 12, 12},
	}
	for _, d := range dys {
		p := backend.WinogradDy{N: uint32(d.n), K: uint32(d.k), OH: uint32(d.oh), OW: uint32(d.ow)}
		out = append(out, Case{Name: d.name, Params: p, Init: []Gen{Symmetric(1), nil}})
		if d.name == "odd_7x9" || d.name == "odd_5x3_batch3" {
			p.MaskRelu = 1
			out = append(out, Case{Name: d.name + "_mask_relu", Params: p, Init: []Gen{Symmetric(1), nil, Symmetric(1)}})
		}
	}
	dws := []struct {
		name    string
		k, c, p int
	}{
		{"1x1_p1", 1, 1, 1},
		{"k3_c5_p7", 3, 5, 7},
		{"k5_c3_p63", 5, 3, 63},
		{"k2_c3_p4099", 2, 3, 4099},
		{"k17_c33_p1025", 17, 33, 1025},
		{"alexnet_conv6", 384, 256, 72},
		{"alexnet_conv10", 256, 384, 18},
		{"alexnet_conv8", 384, 384, 18},
		{"k31_c7_p576_batch16_12", 31, 7, 576},
	}
	for _, d := range dws {
		p := backend.WinogradDw{K: uint32(d.k), C: uint32(d.c), P: uint32(d.p)}
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
	return fmt.Sprintf("winograd_%s_n%d_c%d_k%d_%dx%d_p%dx%d", pass, g.N, g.C, g.K, g.H, g.W, g.PadH, g.PadW)
}

// winogradGradName is the case name of a filter-gradient pipeline check
// of geometry g.
func winogradGradName(g backend.Conv2DShape) string {
	return fmt.Sprintf("winograd_bwd_filter_n%d_c%d_k%d_%dx%d_p%dx%d", g.N, g.C, g.K, g.H, g.W, g.PadH, g.PadW)
}
