package backendtest

import (
	"errors"
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
)

// TestWinogradGradCasesCover: the two F(3x3,2x2) transforms have cases
// with odd planes, batch 1 and 3, the ReLU mask, AlexNet's channels, and
// a db summed over more than ToleranceUnit tiles, whose tolerance scales
// with P.
func TestWinogradGradCasesCover(t *testing.T) {
	var names []string
	masked, batches := 0, map[uint32]bool{}
	for _, c := range CasesOf(backend.KWinogradDy) {
		q := c.Params.(backend.WinogradDy)
		names = append(names, c.FullName())
		batches[q.N] = true
		if q.MaskRelu != 0 {
			masked++
			assert.Equal(t, 3, len(c.Init), c.Name)
			assert.NotNil(t, c.Init[2], "%s: y is an input", c.Name)
		}
	}
	assert.GreaterOrEqual(t, masked, 2)
	assert.Subset(t, keys(batches), []uint32{1, 3})
	assert.Subset(t, names, []string{"winograd_dy/odd_7x9", "winograd_dy/odd_7x9_mask_relu", "winograd_dy/alexnet_conv6"})
	var long *Case
	for _, c := range CasesOf(backend.KWinogradDw) {
		if c.Params.(backend.WinogradDw).P > ToleranceUnit && long == nil {
			long = &c
		}
	}
	require.NotNil(t, long, "a db over more than ToleranceUnit tiles")
	p := long.Params.(backend.WinogradDw)
	assert.Equal(t, int(p.P), ReductionLength(p))
	assert.InDelta(t, Tolerances[backend.KWinogradDw].Atol*math.Sqrt(float64(p.P)/ToleranceUnit), long.Tolerance().Atol, 1e-12)
	assert.Equal(t, Tolerances[backend.KWinogradDy], ToleranceFor(backend.WinogradDy{N: 64, K: 64, OH: 64, OW: 64}),
		"winograd_dy is no reduction")
}

// TestCheckWinogradGradFailsWrongTransform: the filter-gradient pipeline
// check passes the reference device, names conv2d_bwd_filter, fails a
// device whose dw or db is off by 1e-3 in one element or whose dy
// transform lacks G's doubling, and refuses 5x5 and stride-2 layers.
func TestCheckWinogradGradFailsWrongTransform(t *testing.T) {
	g := backend.NewConv2DShape(2, 3, 7, 9, 5, 3, 3, 1, 1)
	r := ref.New()
	defer r.Close()
	res := CheckWinogradGrad(r, g)
	require.NoError(t, res.Err)
	assert.True(t, res.Pass, res.Detail())
	assert.Equal(t, backend.KConv2DBwdFilter, res.Kernel)
	assert.Equal(t, "winograd_bwd_filter_n2_c3_k5_7x9_p1x1", res.Case)
	assert.Equal(t, 5*3*9+5, res.Elements, "dw and db compared")
	assert.Positive(t, res.MaxAbsErr, "float32 storage of V, E and M rounds somewhere")
	for _, slot := range []int{2, 3} {
		f := &faulty{Device: ref.New(), dispatch: after(backend.KWinogradDw, slot, func(_ backend.Params, v []float32) {
			v[len(v)-1] += 1e-3
		})}
		res = CheckWinogradGrad(f, g)
		require.NoError(t, res.Err)
		assert.False(t, res.Pass, "slot %d: the last element is off by 1e-3", slot)
		assert.Equal(t, 1, res.Mismatches, "slot %d", slot)
		assert.Equal(t, slot, res.Worst.Buffer)
		require.NoError(t, f.Close())
	}
	undoubled := &faulty{Device: ref.New(), dispatch: after(backend.KWinogradDy, 1, func(_ backend.Params, v []float32) {
		for i := range v {
			v[i] /= 4
		}
	})}
	defer undoubled.Close()
	res = CheckWinogradGrad(undoubled, g)
	require.NoError(t, res.Err)
	assert.False(t, res.Pass)
	assert.Greater(t, res.Mismatches, res.Elements/2, "textbook G' scales every gradient by 1/4")
	for _, bad := range []backend.Conv2DShape{backend.NewConv2DShape(2, 3, 9, 9, 5, 7, 7, 1, 3),
		backend.NewConv2DShape(2, 3, 9, 9, 4, 3, 3, 2, 1)} {
		res = CheckWinogradGrad(r, bad)
		assert.ErrorContains(t, res.Err, "does not admit Winograd F(3x3,2x2)", bad.Shape())
	}
}

// TestRunWinogradGradReleases: RunWinogradGrad returns dw and db of the
// plan's sizes and releases every buffer, also when an input has the
// wrong length, a dispatch fails or the plan masks dy.
func TestRunWinogradGradReleases(t *testing.T) {
	g := backend.NewConv2DShape(1, 5, 9, 7, 3, 3, 3, 1, 0)
	pl, ok := backend.WinogradGrad(g)
	require.True(t, ok)
	rng := rand.New(rand.NewSource(1))
	x, dy := Symmetric(1)(rng, g.XLen()), Symmetric(1)(rng, g.YLen())
	r := ref.New()
	defer r.Close()
	dw, db, err := RunWinogradGrad(r, pl, x, dy)
	require.NoError(t, err)
	assert.Len(t, dw, g.WLen())
	assert.Len(t, db, int(g.K))
	assert.Zero(t, r.LiveBuffers())
	_, _, err = RunWinogradGrad(r, pl, x, dy[1:])
	assert.ErrorContains(t, err, "buffer 1 holds 104 elements, the plan needs 105")
	assert.Zero(t, r.LiveBuffers())
	boom := errors.New("boom")
	f := &faulty{Device: ref.New(), dispatch: func(d *ref.Device, p backend.Params, bufs []backend.Buffer) error {
		if p.Kernel() == backend.KWinogradDw {
			return boom
		}
		return d.Dispatch(p, bufs...)
	}}
	defer f.Close()
	_, _, err = RunWinogradGrad(f, pl, x, dy)
	require.ErrorIs(t, err, boom)
	assert.ErrorContains(t, err, "winograd_dw K3 C5 from 12 tiles")
	assert.Zero(t, f.Device.LiveBuffers())
	masked := pl
	masked.Dy.MaskRelu = 1
	_, _, err = RunWinogradGrad(r, masked, x, dy)
	assert.ErrorContains(t, err, "MaskRelu")
}

// TestWinogradGradAcceptsFloat32: a device whose gemm, winograd_dy and
// winograd_dw sum naively in float32 passes the two transforms' suite
// cases and the filter-gradient pipeline on every geometry.
func TestWinogradGradAcceptsFloat32(t *testing.T) {
	single := map[backend.Kernel]func(backend.Params, [][]float32){
		backend.KGemm: gemm32, backend.KWinogradDy: winogradDy32, backend.KWinogradDw: winogradDw32}
	rep := runFake(t, &faulty{Device: ref.New(), dispatch: hostKernels(single)}, "winograd_d", true)
	failed, passed := failedCases(rep)
	assert.Empty(t, failed)
	assert.Len(t, passed, len(CasesOf(backend.KWinogradDy))+len(CasesOf(backend.KWinogradDw)))
	f := &faulty{Device: ref.New(), dispatch: hostKernels(single)}
	defer f.Close()
	for _, g := range WinogradGradGeometries() {
		if testing.Short() && WinogradGradLarge(g) {
			continue
		}
		res := CheckWinogradGrad(f, g)
		require.NoError(t, res.Err, g.Shape())
		assert.True(t, res.Pass, "%s: %s", g.Shape(), res.Detail())
		t.Logf("%s: max |err| %.3g, %.4f of the tolerance", g.Shape(), res.MaxAbsErr, res.Ratio)
		res = CheckWinogradGrad4(f, g)
		require.NoError(t, res.Err, g.Shape())
		assert.True(t, res.Pass, "F(3x3,4x4) %s: %s", g.Shape(), res.Detail())
		t.Logf("F(3x3,4x4) %s: max |err| %.3g, %.4f of the tolerance", g.Shape(), res.MaxAbsErr, res.Ratio)
	}
}

// hostKernels runs the kernels of fs on the host (as hostDispatch) and
// every other kernel on the reference.
func hostKernels(fs map[backend.Kernel]func(backend.Params, [][]float32)) func(*ref.Device, backend.Params, []backend.Buffer) error {
	return func(d *ref.Device, p backend.Params, bufs []backend.Buffer) error {
		if p != nil {
			if f, ok := fs[p.Kernel()]; ok {
				return hostDispatch(p.Kernel(), f)(d, p, bufs)
			}
		}
		return d.Dispatch(p, bufs...)
	}
}

// gradMatrices are the filter gradient's G' (a x m) and A'^T (r x a) as
// the backends scale them, a the tile side, r the block side and m the
// side of dy's tile, with the element ξ of E that holds scale times the
// sum of a tile: F(3x3,2x2), F(5x5,2x2) with k5 or F(3x3,4x4) with f4
// (backend/ref states them).
func gradMatrices(k5, f4 uint32) (gp, at [][]float32, a, r, m, sum int, scale float32) {
	const s = 1.0 / 24
	switch {
	case f4 != 0:
		return [][]float32{{6, 0, 0, 0}, {-4, -4, -4, -4}, {-4, 4, -4, 4}, {1, 2, 4, 8}, {1, -2, 4, -8}, {0, 0, 0, 24}},
			[][]float32{{s, s, s, s, s, 0}, {0, s, -s, 2 * s, -2 * s, 0}, {0, s, s, 4 * s, 4 * s, s}}, 6, 3, 4, 7, 16
	case k5 != 0:
		return [][]float32{{6, 0}, {-4, -4}, {-4, 4}, {1, 2}, {1, -2}, {0, 24}},
			[][]float32{{s, s, s, s, s, 0}, {0, s, -s, 2 * s, -2 * s, 0}, {0, s, s, 4 * s, 4 * s, 0},
				{0, s, -s, 8 * s, -8 * s, 0}, {0, s, s, 16 * s, 16 * s, s}}, 6, 5, 2, 7, 16
	}
	return [][]float32{{2, 0}, {1, 1}, {1, -1}, {0, 2}},
		[][]float32{{0.5, 0.5, 0.5, 0}, {0, 0.5, -0.5, 0}, {0, 0.5, 0.5, -0.5}}, 4, 3, 2, 5, 1
}

// winogradDy32 is winograd_dy in float32: the rows of G' e first, then
// the columns, each summed in order (dy masked by y with MaskRelu).
func winogradDy32(p backend.Params, v [][]float32) {
	q := p.(backend.WinogradDy)
	gp, _, pa, _, m, _, _ := gradMatrices(q.K5, q.F4)
	kk, oh, ow := int(q.K), int(q.OH), int(q.OW)
	th, tw := (oh+m-1)/m, (ow+m-1)/m
	tiles := int(q.N) * th * tw
	for t := range tiles {
		img, r := t/(th*tw), t%(th*tw)
		y0, x0 := m*(r/tw), m*(r%tw)
		for k := range kk {
			e := make([][]float32, m)
			for a := range m {
				e[a] = make([]float32, m)
				for b := range m {
					if y, x := y0+a, x0+b; y < oh && x < ow {
						i := ((img*kk+k)*oh+y)*ow + x
						if e[a][b] = v[0][i]; q.MaskRelu != 0 && !(v[2][i] > 0) {
							e[a][b] = 0
						}
					}
				}
			}
			for i := range pa {
				row := make([]float32, m) // row i of G' e
				for b := range m {
					for a := range m {
						row[b] += gp[i][a] * e[a][b]
					}
				}
				for j := range pa {
					var o float32
					for b := range m {
						o += row[b] * gp[j][b]
					}
					v[1][((pa*i+j)*tiles+t)*kk+k] = o
				}
			}
		}
	}
}

// winogradDw32 is winograd_dw in float32: A'^T m, then times A', and db
// summed over the tiles in order.
func winogradDw32(p backend.Params, v [][]float32) {
	q := p.(backend.WinogradDw)
	_, at, pa, rb, _, sum, scale := gradMatrices(q.K5, q.F4)
	kk, cc, tiles, rr, ss := int(q.K), int(q.C), int(q.P), int(q.R), int(q.S)
	rows, bs := int(q.Blocks())*cc, int(backend.WinogradBlocksAlong(q.S, q.K5))
	for k := range kk {
		var s float32
		for t := range tiles {
			s += v[1][(sum*tiles+t)*kk+k]
		}
		v[3][k] = s / scale
		for row := range rows {
			left := make([][]float32, rb)
			for r := range rb {
				left[r] = make([]float32, pa)
				for b := range pa {
					for a := range pa {
						left[r][b] += at[r][a] * v[0][((pa*a+b)*rows+row)*kk+k]
					}
				}
			}
			for r := range rb {
				for s := range rb {
					kr, ks := rb*(row/cc/bs)+r, rb*(row/cc%bs)+s
					if kr >= rr || ks >= ss {
						continue
					}
					var o float32
					for b := range pa {
						o += left[r][b] * at[s][b]
					}
					v[2][((k*cc+row%cc)*rr+kr)*ss+ks] = o
				}
			}
		}
	}
}
