package backend_test

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
)

func TestKernelTable(t *testing.T) {
	want := []backend.Kernel{"conv2d_fwd", "conv2d_bwd_data", "conv2d_bwd_filter", "maxpool_fwd", "maxpool_bwd",
		"relu_fwd", "relu_bwd", "dropout_fwd", "dropout_bwd", "gemm", "bias_add", "bias_grad", "softmax_xent",
		"adam", "fill", "axpy", "scale", "resize_bilinear", "count_nonfinite", "winograd_input", "winograd_filter",
		"winograd_output", "winograd_dy", "winograd_dw"}
	assert.Equal(t, want, backend.Kernels())
	for _, k := range backend.Kernels() {
		p := backend.ParamsFor(k)
		require.NotNil(t, p, k)
		assert.Equal(t, k, p.Kernel())
		assert.Zero(t, reflect.ValueOf(p).Interface(), "ParamsFor(%s) is a zero struct", k)
	}
	assert.Nil(t, backend.ParamsFor("winograd"))
}

// TestFactsAreConsistent checks the facts of every conformance case: one
// role per buffer, named and distinct, some buffer written, in-place only
// in groups, work and shape declared, and for element-wise kernels N
// elements in every buffer and copies with another N.
func TestFactsAreConsistent(t *testing.T) {
	seen := map[backend.Kernel]bool{}
	for _, c := range backendtest.Cases() {
		p, name := c.Params, c.FullName()
		seen[p.Kernel()] = true
		roles, sizes := p.Buffers(), p.BufferSizes()
		require.Len(t, roles, len(sizes), name)
		names := map[string]bool{}
		writes, inPlace := 0, 0
		for _, r := range roles {
			assert.NotEmpty(t, r.Name, name)
			assert.False(t, names[r.Name], "%s: buffer name %s twice", name, r.Name)
			names[r.Name] = true
			assert.Contains(t, []backend.Access{backend.Read, backend.Write, backend.ReadWrite}, r.Access, name)
			if r.Access.Writes() {
				writes++
			}
			if r.InPlace {
				inPlace++
			}
		}
		assert.Positive(t, writes, "%s writes nothing", name)
		assert.NotEqual(t, 1, inPlace, "%s: one InPlace buffer has nothing to share with", name)
		w := p.Work()
		assert.Positive(t, w.Bytes, name)
		assert.Equal(t, w.Compute, w.FLOP > 0, name)
		assert.NotEmpty(t, p.Shape(), name)

		e, ok := p.(backend.Elementwise)
		if !ok {
			continue
		}
		for i, n := range sizes {
			assert.Equal(t, e.Elements(), n, "%s buffer %d", name, i)
		}
		sub := e.WithElements(3)
		assert.Equal(t, 3, sub.Elements(), name)
		assert.Equal(t, p.Kernel(), sub.Kernel())
		back := reflect.ValueOf(sub.WithElements(e.Elements())).Interface()
		assert.Equal(t, p, back, "%s: WithElements changes only N", name)
		for _, n := range sub.BufferSizes() {
			assert.Equal(t, 3, n, name)
		}
	}
	assert.Len(t, seen, len(backend.Kernels()))
}

func TestRoles(t *testing.T) {
	roles := func(p backend.Params) []string {
		var out []string
		for _, r := range p.Buffers() {
			s := r.Name + ":" + r.Access.String()
			if r.InPlace {
				s += "*"
			}
			out = append(out, s)
		}
		return out
	}
	assert.Equal(t, []string{"A:read", "B:read", "C:write"}, roles(backend.Gemm{Beta: 0}))
	assert.Equal(t, []string{"A:read", "B:read", "C:read-write"}, roles(backend.Gemm{Beta: 1}))
	assert.Equal(t, []string{"x:read", "out:read-write"}, roles(backend.CountNonfinite{}))
	assert.Equal(t, []string{"p:read-write*", "g:read*", "m:read-write*", "v:read-write*"}, roles(backend.Adam{}))
	assert.Equal(t, []string{"y:read*", "dy:read*", "dx:write*"}, roles(backend.ReluBwd{}))
	assert.Equal(t, []string{"x:read", "dy:read", "dw:write", "db:write"}, roles(backend.Conv2DBwdFilter{}))
	assert.Equal(t, []string{"y:read-write", "b:read"}, roles(backend.BiasAdd{}))
	assert.Equal(t, "unknown access", backend.Access(0).String())

	assert.True(t, backend.MayShare(backend.ReluFwd{N: 1}, 0, 1))
	assert.True(t, backend.MayShare(backend.Gemm{}, 2, 2))
	assert.False(t, backend.MayShare(backend.Gemm{}, 0, 2))
	assert.False(t, backend.MayShare(backend.CountNonfinite{}, 0, 1))
}

func TestWork(t *testing.T) {
	g := backend.NewConv2DShape(2, 3, 8, 8, 4, 3, 3, 1, 1) // 8x8 out
	macs := 2.0 * 4 * 8 * 8 * 3 * 3 * 3
	assert.Equal(t, backend.Work{FLOP: 2 * macs, Bytes: 4 * (384 + 108 + 4 + 512), Compute: true},
		backend.Conv2DFwd{Conv2DShape: g}.Work())
	assert.Equal(t, backend.Work{FLOP: 2*macs + 2*4*64, Bytes: 4 * (384 + 512 + 108 + 4), Compute: true},
		backend.Conv2DBwdFilter{Conv2DShape: g}.Work())
	assert.Equal(t, backend.Work{FLOP: 2 * 3 * 5 * 7, Bytes: 4 * (21 + 35 + 15), Compute: true},
		backend.Gemm{M: 3, N: 5, K: 7, Alpha: 1}.Work())
	assert.Equal(t, 4.0*(21+35+30), backend.Gemm{M: 3, N: 5, K: 7, Alpha: 1, Beta: 1}.Work().Bytes, "C read and written")
	assert.Equal(t, backend.Work{Bytes: 4 * 7 * 10}, backend.NewAdam(10, 1e-3, 0.9, 0.999, 1e-8, 1).Work())
	assert.Equal(t, backend.Work{Bytes: 4 * (100 + 1)}, backend.CountNonfinite{N: 100, Slot: 9}.Work(), "one slot written")
	assert.Equal(t, backend.Work{Bytes: 4 * (2*6 + 3)}, backend.BiasAdd{Rows: 2, Cols: 3}.Work())
	sum := backend.Work{FLOP: 1, Bytes: 2}.Add(backend.Work{FLOP: 3, Bytes: 4, Compute: true})
	assert.Equal(t, backend.Work{FLOP: 4, Bytes: 6, Compute: true}, sum)
}

func TestShape(t *testing.T) {
	g := backend.NewConv2DShape(8, 96, 27, 27, 256, 5, 5, 1, 2)
	assert.Equal(t, "N8 C96 27x27 -> K256 27x27 k5x5 s1 p2", backend.Conv2DBwdData{Conv2DShape: g}.Shape())
	a := g
	a.StrideW, a.PadW = 2, 0
	assert.Equal(t, "N8 C96 27x27 -> K256 27x27 k5x5 s1x2 p2x0", backend.Conv2DFwd{Conv2DShape: a}.Shape(),
		"a shape names both strides and paddings when they differ, so tune keys never collide")
	assert.Equal(t, "N8 C96 55x55 -> 27x27 k3 s2", backend.MaxPoolFwd{Pool2DShape: backend.NewPool2DShape(8, 96, 55, 55, 3, 2, 0)}.Shape())
	assert.Equal(t, "M8 N4096 K6400 B^T", backend.Gemm{M: 8, N: 4096, K: 6400, TransB: 1}.Shape())
	assert.Equal(t, "n=4099 p=0.5", backend.DropoutBwd{N: 4099, P: 0.5}.Shape())
	assert.Equal(t, "n=7", backend.CountNonfinite{N: 7}.Shape())
	assert.Equal(t, "N2 28x28 -> 224x224", backend.ResizeBilinear{N: 2, InH: 28, InW: 28, OutH: 224, OutW: 224}.Shape())
}

func TestParamsAs(t *testing.T) {
	f, err := backend.ParamsAs[backend.Fill](backend.Fill{N: 3, Value: 2})
	require.NoError(t, err)
	assert.Equal(t, backend.Fill{N: 3, Value: 2}, f)
	f, err = backend.ParamsAs[backend.Fill](&backend.Fill{N: 4})
	require.NoError(t, err)
	assert.Equal(t, uint32(4), f.N)
	_, err = backend.ParamsAs[backend.Fill](backend.Scale{N: 4})
	assert.EqualError(t, err, "fill: params of type backend.Scale, want backend.Fill")
	_, err = backend.ParamsAs[backend.Fill]((*backend.Fill)(nil))
	assert.Error(t, err)
}

func TestConvShapeOfAndWithConvShape(t *testing.T) {
	g := backend.NewConv2DShape(3, 5, 9, 7, 4, 3, 3, 2, 1)
	for _, p := range []backend.Params{backend.Conv2DFwd{Conv2DShape: g}, &backend.Conv2DBwdData{Conv2DShape: g}, backend.Conv2DBwdFilter{Conv2DShape: g}} {
		got, ok := backend.ConvShapeOf(p)
		assert.True(t, ok, p.Kernel())
		assert.Equal(t, g, got, p.Kernel())
		h := g
		h.N = 1
		q := backend.WithConvShape(p, h)
		assert.Equal(t, p.Kernel(), q.Kernel())
		back, _ := backend.ConvShapeOf(q)
		assert.Equal(t, h, back)
	}
	_, ok := backend.ConvShapeOf(backend.Gemm{M: 1, N: 1, K: 1})
	assert.False(t, ok)
	assert.Panics(t, func() { backend.WithConvShape(backend.ReluFwd{N: 1}, g) })
}
