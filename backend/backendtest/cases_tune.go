package backendtest

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// CheckCases returns the small cases of tiled dispatch p's structure that
// a tile configuration must pass before it may run p (see package tune):
// for gemm p's TransA, TransB and Alpha, and Beta zero or not as in p, on
// sizes that leave partial tiles in every dimension and a long reduction
// that split-K divides, each size a multiple of the power of two (up to
// 16) that divides p's (a configuration with vector loads that needs an
// aligned N runs only where N is aligned); for the convolutions p's kernel size, strides and
// padding on small odd channel counts and planes, at batch 1 and at an odd
// batch whose reduction over images and pixels spans many slabs. Outputs
// are NaN-poisoned and the second case checks for writes past the end.
// A batched gemm's cases are batches of three products. Kernels that are
// not tiled have none.
func CheckCases(p backend.Params) []Case {
	var out []Case
	switch p.Kernel() {
	case backend.KGemm:
		q, err := backend.ParamsAs[backend.Gemm](p)
		if err != nil {
			return nil
		}
		out = gemmCheckCases(q)
	case backend.KConv2DFwd, backend.KConv2DBwdData, backend.KConv2DBwdFilter:
		out = convCheckCases(p)
	}
	for i := range out {
		if i%2 == 1 {
			out[i].Slack = 5
		}
	}
	return out
}

// gemmCheckCases are three gemms of q's structure: partial tiles beyond
// 128 rows and columns, a deep reduction with a small output (split-K) and
// a single row; batches of three when q is batched.
func gemmCheckCases(q backend.Gemm) []Case {
	alpha, beta := q.Alpha, q.Beta
	if alpha == 0 {
		alpha = 1
	}
	shapes := []gemmShape{{"edges", 131, 133, 45}, {"deep", 7, 9, 1031}, {"row", 1, 67, 19}}
	var out []Case
	for _, s := range shapes {
		name := fmt.Sprintf("tune_%s_%s_b%g", s.name, transName(q.TransA, q.TransB), beta)
		p := backend.Gemm{M: aligned(s.m, q.M), N: aligned(s.n, q.N), K: aligned(s.k, q.K),
			TransA: q.TransA, TransB: q.TransB, Alpha: alpha, Beta: beta}
		if q.Batch > 1 {
			p.Batch = 3
			name += "_batch3"
		}
		c, _ := TiledCase(name, p)
		out = append(out, c)
	}
	return out
}

// aligned is the least size' >= size that the same powers of two up to 16
// divide as like.
func aligned(size int, like uint32) uint32 {
	a := 1
	for a < 16 && like%uint32(2*a) == 0 {
		a *= 2
	}
	v := (size + a - 1) / a * a
	if a < 16 && v%(2*a) == 0 {
		v += a
	}
	return uint32(v)
}

// convCheckCases are two convolutions of p's geometry (kernel size,
// strides, padding): batch 1 with more output channels than a 64-row tile
// holds, and batch 3 with planes that the stride does not divide; when 4
// divides p's filter length C*R*S, theirs too (for 4-wide filter loads),
// with as few channels more as that takes, and for conv2d_bwd_data K*R*S
// too, for conv2d_bwd_filter N*OH*OW (with a wider output): the filter
// lengths of their forward forms, the Vulkan fwd=1 configurations.
func convCheckCases(p backend.Params) []Case {
	g, ok := backend.ConvShapeOf(p)
	if !ok {
		return nil
	}
	shapes := []struct {
		name                string
		n, c, k, oh, ow, rm int
	}{
		{"batch1", 1, 3, 67, 7, 5, 0},
		{"batch3", 3, 5, 9, 13, 11, 1},
	}
	var out []Case
	for _, s := range shapes {
		cg := smallConv(g, s.n, s.c, s.k, s.oh, s.ow, s.rm)
		for ow := s.ow + 1; p.Kernel() == backend.KConv2DBwdFilter && (g.N*g.OH*g.OW)%4 == 0 && (cg.N*cg.OH*cg.OW)%4 != 0; ow++ {
			cg = smallConv(g, s.n, s.c, s.k, s.oh, ow, s.rm)
		}
		for (g.C*g.R*g.S)%4 == 0 && (cg.C*cg.R*cg.S)%4 != 0 {
			cg.C++
		}
		for p.Kernel() == backend.KConv2DBwdData && (g.K*g.R*g.S)%4 == 0 && (cg.K*cg.R*cg.S)%4 != 0 {
			cg.K++
		}
		name := fmt.Sprintf("tune_%s_k%dx%d_s%dx%d_p%dx%d", s.name, g.R, g.S, g.StrideH, g.StrideW, g.PadH, g.PadW)
		c, err := TiledCase(name, backend.WithConvShape(p, cg))
		if err == nil {
			out = append(out, c)
		}
	}
	return out
}

// smallConv is g's kernel, strides and padding on n images of c channels
// producing k channels of about oh x ow; with rm set the input planes have
// stride-1 extra rows and columns that the output does not reach.
func smallConv(g backend.Conv2DShape, n, c, k, oh, ow, rm int) backend.Conv2DShape {
	side := func(o int, stride, r, pad uint32) int {
		for ; ; o++ {
			if v := (o-1)*int(stride) + int(r) - 2*int(pad) + rm*(int(stride)-1); v >= 1 {
				return v
			}
		}
	}
	s := g
	s.N, s.C, s.K = uint32(n), uint32(c), uint32(k)
	s.H = uint32(side(oh, g.StrideH, g.R, g.PadH))
	s.W = uint32(side(ow, g.StrideW, g.S, g.PadW))
	s.OH = (s.H+2*s.PadH-s.R)/s.StrideH + 1
	s.OW = (s.W+2*s.PadW-s.S)/s.StrideW + 1
	return s
}

// TiledCase is the case dispatching tiled p under name, with the inputs
// the suite's cases of its kernel use (weights and gradients scaled by the
// fan-in, outputs NaN-poisoned, C read when Beta != 0). The tuner also
// times configurations on TiledCase's inputs at the real shape. An error
// when p's kernel is not tiled or p is not its kernel's params struct.
func TiledCase(name string, p backend.Params) (Case, error) {
	c := Case{Name: name, Params: p}
	switch p.Kernel() {
	case backend.KGemm:
		q, err := backend.ParamsAs[backend.Gemm](p)
		if err != nil {
			return Case{}, err
		}
		var cg Gen
		if q.Beta != 0 {
			cg = Symmetric(1)
		}
		c.Params, c.Init = q, []Gen{Symmetric(1), FanIn(int(q.K)), cg}
		return c, nil
	case backend.KConv2DFwd, backend.KConv2DBwdData, backend.KConv2DBwdFilter:
		g, ok := backend.ConvShapeOf(p)
		if !ok {
			return Case{}, fmt.Errorf("%s: params of type %T are not its params struct", p.Kernel(), p)
		}
		c.Params = backend.WithConvShape(p, g)
		switch p.Kernel() {
		case backend.KConv2DFwd:
			c.Init = []Gen{Symmetric(1), FanIn(int(g.C * g.R * g.S)), Symmetric(0.5), nil}
		case backend.KConv2DBwdData:
			c.Init = []Gen{Symmetric(1), FanIn(int(g.K * g.R * g.S)), nil}
		default:
			c.Init = []Gen{Symmetric(1), FanIn(int(g.N * g.OH * g.OW)), nil, nil}
		}
		if len(c.Params.Buffers()) > len(c.Init) {
			c.Init = append(c.Init, Symmetric(1)) // MaskRelu's ReLU output y
		}
		return c, nil
	}
	return Case{}, fmt.Errorf("%s is not a tiled kernel", p.Kernel())
}
