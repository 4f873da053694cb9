package tune_test

import (
	"testing"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
	"github.com/crossgrad/crossgrad/tune"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// alexConv1 is AlexNet's first convolution at batch 128 on 224x224.
var alexConv1 = backend.NewConv2DShape(128, 1, 224, 224, 64, 11, 11, 4, 2)

// TestCheckCasesStructure: the check cases keep the structure of the
// dispatch (transposes, Beta zero or not, the power-of-two alignment of
// the gemm sizes; kernel, strides, padding, and 4 dividing the filter
// length C*R*S, else odd input channels; for conv2d_bwd_data 4 dividing
// K*R*S too, else odd output channels), are small, and cover batch 1, an
// odd batch and partial tiles.
func TestCheckCasesStructure(t *testing.T) {
	for _, p := range []backend.Gemm{
		{M: 128, N: 4096, K: 9216, TransB: 1, Alpha: 1},
		{M: 4096, N: 9216, K: 128, TransA: 1, Alpha: 1, Beta: 1},
		{M: 33, N: 70, K: 129, Alpha: 1},
	} {
		cases := backendtest.CheckCases(p)
		require.Len(t, cases, 3)
		big := false
		for _, c := range cases {
			q := c.Params.(backend.Gemm)
			assert.Equal(t, [4]float32{float32(p.TransA), float32(p.TransB), p.Alpha, p.Beta},
				[4]float32{float32(q.TransA), float32(q.TransB), q.Alpha, q.Beta}, c.Name)
			require.NoError(t, q.Validate())
			assert.LessOrEqual(t, q.M*q.N*q.K, uint32(1<<21), "small")
			big = big || (q.M > 128 && q.N > 128)
			for _, d := range [][2]uint32{{p.M, q.M}, {p.N, q.N}, {p.K, q.K}} {
				for _, a := range []uint32{2, 4, 8, 16} {
					assert.Equal(t, d[0]%a == 0, d[1]%a == 0, "%s: alignment to %d as in %s", c.Name, a, p.Shape())
				}
			}
			assert.Equal(t, p.Beta != 0, c.Init[2] != nil, "C is read only when Beta != 0")
		}
		assert.True(t, big, "one case spans more than a 128x128 tile")
	}
	for _, p := range []backend.Params{
		backend.Conv2DFwd{Conv2DShape: alexConv1},
		backend.Conv2DBwdData{Conv2DShape: backend.NewConv2DShape(128, 64, 27, 27, 192, 5, 5, 1, 2)},
		backend.Conv2DBwdFilter{Conv2DShape: backend.NewConv2DShape(128, 192, 13, 13, 384, 3, 3, 1, 1)},
		backend.Conv2DFwd{Conv2DShape: backend.NewConv2DShape(1, 3, 2, 2, 5, 3, 3, 1, 2)},
	} {
		cases := backendtest.CheckCases(p)
		require.Len(t, cases, 2, p.Shape())
		g := shapeOf(p)
		var batches []uint32
		for _, c := range cases {
			assert.Equal(t, p.Kernel(), c.Kernel())
			q := shapeOf(c.Params)
			require.NoError(t, q.Validate(), c.Name)
			assert.Equal(t, [6]uint32{g.R, g.S, g.StrideH, g.StrideW, g.PadH, g.PadW},
				[6]uint32{q.R, q.S, q.StrideH, q.StrideW, q.PadH, q.PadW}, c.Name)
			if (g.C*g.R*g.S)%4 == 0 {
				assert.Zero(t, (q.C*q.R*q.S)%4, "%s: 4 divides the filter length as in %s", c.Name, p.Shape())
				assert.Less(t, q.C, uint32(9), "as few channels more as the alignment takes")
			} else {
				assert.Equal(t, uint32(1), q.C%2, "odd channels")
			}
			if p.Kernel() == backend.KConv2DBwdData && (g.K*g.R*g.S)%4 == 0 {
				assert.Zero(t, (q.K*q.R*q.S)%4, "%s: 4 divides the forward form's filter length K*R*S as in %s", c.Name, p.Shape())
				assert.Less(t, q.K, uint32(72), "as few channels more as the alignment takes")
			} else {
				assert.Equal(t, uint32(1), q.K%2, "odd channels")
			}
			if p.Kernel() == backend.KConv2DBwdFilter && (g.N*g.OH*g.OW)%4 == 0 {
				assert.Zero(t, (q.N*q.OH*q.OW)%4, "%s: 4 divides the forward form's filter length N*OH*OW as in %s", c.Name, p.Shape())
			}
			assert.NotEqual(t, q.OH, q.OW, "planes are not square")
			batches = append(batches, q.N)
		}
		assert.Equal(t, []uint32{1, 3}, batches)
	}
	assert.Empty(t, backendtest.CheckCases(backend.ReluFwd{N: 5}))
}

func shapeOf(p backend.Params) backend.Conv2DShape {
	g, ok := backend.ConvShapeOf(p)
	if !ok {
		panic("not a convolution")
	}
	return g
}

// TestCheck passes a correct configuration and names the case and the
// configuration of a wrong, failing or crashing one, for gemm and the
// three convolutions.
func TestCheck(t *testing.T) {
	f := newFake(fakeConfig{"v=0", fakeTile{}}, fakeConfig{"v=2", fakeTile{wrong: true}},
		fakeConfig{"v=3", fakeTile{err: backend.ErrDeviceLost}}, fakeConfig{"v=7", fakeTile{panics: true}},
		fakeConfig{"v=6", fakeTile{refuse: true}})
	defer f.Close()
	for _, p := range []backend.Params{
		backend.Gemm{M: 8, N: 8, K: 8, TransA: 1, TransB: 1, Alpha: 1, Beta: 0.5},
		backend.Conv2DFwd{Conv2DShape: alexConv1},
		backend.Conv2DBwdData{Conv2DShape: alexConv1},
		backend.Conv2DBwdFilter{Conv2DShape: alexConv1},
	} {
		first := backendtest.CheckCases(p)[0].FullName()
		assert.NoError(t, tune.Check(f, p, "v=0"), p.Kernel())
		err := tune.Check(f, p, "v=2")
		assert.ErrorContains(t, err, `configuration "v=2" fails check case `+first+": 1/")
		err = tune.Check(f, p, "v=3")
		assert.ErrorIs(t, err, backend.ErrDeviceLost, "the kind of the failure is kept")
		assert.ErrorContains(t, tune.Check(f, p, "v=7"), "panic in backend")
		assert.ErrorContains(t, tune.Check(f, p, "v=6"), "beyond the device's limits")
	}
	assert.ErrorContains(t, tune.Check(f, backend.ReluFwd{N: 3}, "v=0"), "relu_fwd is not a tiled kernel")
	assert.ErrorContains(t, tune.Check(f.Device, backend.Gemm{M: 1, N: 1, K: 1}, "v=0"), "no tile engine")
}
