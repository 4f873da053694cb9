package opencl

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
)

// tileBufs uploads host slices to d; outputs (listed in out) are poisoned
// with NaN first so that unwritten elements fail the comparison.
func tileBufs(t *testing.T, d *Device, host [][]float32, out ...int) []*Buffer {
	t.Helper()
	bufs := make([]*Buffer, len(host))
	for i, h := range host {
		b, err := d.Alloc(len(h))
		require.NoError(t, err)
		src := h
		for _, o := range out {
			if o == i {
				src = make([]float32, len(h))
				for j := range src {
					src[j] = float32(math.NaN())
				}
			}
		}
		require.NoError(t, d.Write(b, 0, src))
		bufs[i] = b.(*Buffer)
		t.Cleanup(bufs[i].Release)
	}
	return bufs
}

func tileRand(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = rng.Float32()*2 - 1
	}
	return v
}

// tileCheck asserts |got-want| <= atol + rtol*|want| for every element of
// buffer b (NaN fails).
func tileCheck(t *testing.T, d *Device, name string, b *Buffer, want []float32, atol, rtol float64) {
	t.Helper()
	got := make([]float32, len(want))
	require.NoError(t, d.Read(b, 0, got))
	bad := 0
	for i := range want {
		w, g := float64(want[i]), float64(got[i])
		if math.IsNaN(g) || math.Abs(g-w) > atol+rtol*math.Abs(w) {
			if bad < 3 {
				t.Errorf("%s[%d]: got %v, want %v", name, i, g, w)
			}
			bad++
		}
	}
	require.Zero(t, bad, "%s: %d of %d elements out of tolerance", name, bad, len(want))
}

func openTileTest(t *testing.T) *Device {
	t.Helper()
	if _, err := listDevices(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no OpenCL device with CI=true: %v", err)
		}
		t.Skipf("no OpenCL device: %v", err)
	}
	d, err := Open(0)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, d.Close()) })
	return d
}

func TestGemmTilingsMatchRef(t *testing.T) {
	d := openTileTest(t)
	rng := rand.New(rand.NewSource(7))
	shapes := [][3]int{{1, 1, 1}, {1, 37, 70}, {45, 1, 19}, {67, 131, 45}, {64, 64, 64}, {5, 200, 77}, {130, 3, 33}}
	for _, tl := range tilings {
		checkGemmTiling(t, d, rng, tl, shapes)
	}
}

// checkGemmTiling compares gemm with tiling tl with ref.Gemm on shapes (M,
// N, K), every transposition, with and without Beta.
func checkGemmTiling(t *testing.T, d *Device, rng *rand.Rand, tl tiling, shapes [][3]int) {
	t.Helper()
	for _, sh := range shapes {
		for i := range 4 {
			ta, tb := uint32(i&1), uint32(i>>1)
			for _, beta := range []float32{0, -0.5} {
				p := backend.Gemm{M: uint32(sh[0]), N: uint32(sh[1]), K: uint32(sh[2]), TransA: ta, TransB: tb, Alpha: 1.25, Beta: beta}
				name := fmt.Sprintf("gemm %s %+v", tl.name, p)
				sizes := p.BufferSizes()
				host := [][]float32{tileRand(rng, sizes[0]), tileRand(rng, sizes[1]), tileRand(rng, sizes[2])}
				var bufs []*Buffer
				if beta == 0 {
					bufs = tileBufs(t, d, host, 2)
				} else {
					bufs = tileBufs(t, d, host)
				}
				require.NoError(t, d.gemmWith(tl, p, bufs), name)
				ref.Gemm(p, host[0], host[1], host[2])
				tileCheck(t, d, name, bufs[2], host[2], 1e-4, 1e-4)
			}
		}
	}
}

// convCases are small odd geometries: strides 1, 2, 3, padding, non-square,
// wide channels.
func convCases() []backend.Conv2DShape {
	g := []backend.Conv2DShape{
		backend.NewConv2DShape(2, 3, 11, 11, 5, 3, 3, 1, 1),
		backend.NewConv2DShape(1, 1, 17, 13, 7, 5, 3, 2, 2),
		backend.NewConv2DShape(3, 4, 9, 10, 67, 3, 3, 3, 0),
		backend.NewConv2DShape(2, 70, 5, 6, 3, 1, 1, 1, 0),
		backend.NewConv2DShape(2, 17, 9, 7, 20, 3, 3, 2, 1),
		backend.NewConv2DShape(1, 20, 12, 12, 24, 3, 3, 1, 1),
		backend.NewConv2DShape(1, 33, 10, 11, 5, 2, 2, 3, 1),
		backend.NewConv2DShape(1, 2, 23, 23, 9, 11, 11, 4, 1),
		// stride 1, C >= 64 and K*R*S over a slab: bwd_data transposes
		// the weights first.
		backend.NewConv2DShape(2, 96, 7, 6, 21, 3, 3, 1, 1),
		backend.NewConv2DShape(1, 130, 5, 5, 9, 5, 5, 1, 2),
		// K over a tile and 49 pixels per image: bwd_filter's dy slabs
		// straddle image boundaries inside 4x4 blocks.
		backend.NewConv2DShape(3, 5, 7, 7, 130, 3, 3, 1, 1),
	}
	asym := backend.Conv2DShape{N: 2, C: 3, H: 8, W: 12, K: 4, R: 3, S: 5, StrideH: 1, StrideW: 2, PadH: 2, PadW: 1}
	asym.OH = (asym.H+2*asym.PadH-asym.R)/asym.StrideH + 1
	asym.OW = (asym.W+2*asym.PadW-asym.S)/asym.StrideW + 1
	return append(g, asym)
}

func TestConvTilingsMatchRef(t *testing.T) {
	d := openTileTest(t)
	rng := rand.New(rand.NewSource(8))
	for _, tl := range tilings {
		checkConvTiling(t, d, rng, tl, convCases())
	}
}

// checkConvTiling compares the three convolutions with tiling tl (and
// conv2d_bwd_data_direct) with the reference on the geometries cases, with
// and without split-K.
func checkConvTiling(t *testing.T, d *Device, rng *rand.Rand, tl tiling, cases []backend.Conv2DShape) {
	t.Helper()
	for _, g := range cases {
		require.NoError(t, g.Validate())
		x, w, b, dy := tileRand(rng, g.XLen()), tileRand(rng, g.WLen()), tileRand(rng, int(g.K)), tileRand(rng, g.YLen())
		const atol, rtol = 2e-4, 2e-4

		fwd := backend.Conv2DFwd{Conv2DShape: g}
		y := make([]float32, g.YLen())
		bufs := tileBufs(t, d, [][]float32{x, w, b, y}, 3)
		require.NoError(t, d.convFwdWith(tl, fwd, bufs))
		ref.Conv2DFwd(fwd, x, w, b, y)
		tileCheck(t, d, fmt.Sprintf("conv2d_fwd %s %+v", tl.name, g), bufs[3], y, atol, rtol)
		fwd.Relu = 1
		bufs = tileBufs(t, d, [][]float32{x, w, b, y}, 3)
		require.NoError(t, d.convFwdWith(tl, fwd, bufs))
		ref.Conv2DFwd(fwd, x, w, b, y)
		require.Contains(t, y, float32(0), "some outputs clamped")
		tileCheck(t, d, fmt.Sprintf("conv2d_fwd relu %s %+v", tl.name, g), bufs[3], y, atol, rtol)

		bd := backend.Conv2DBwdData{Conv2DShape: g}
		dx := make([]float32, g.XLen())
		bufs = tileBufs(t, d, [][]float32{dy, w, dx}, 2)
		require.NoError(t, d.convBwdDataWith(tl, bd, bufs))
		ref.Conv2DBwdData(bd, dy, w, dx)
		tileCheck(t, d, fmt.Sprintf("conv2d_bwd_data %s %+v", tl.name, g), bufs[2], dx, atol, rtol)
		bufs = tileBufs(t, d, [][]float32{dy, w, dx}, 2)
		require.NoError(t, d.convBwdDataDirect(bd, bufs))
		tileCheck(t, d, fmt.Sprintf("conv2d_bwd_data_direct %+v", g), bufs[2], dx, atol, rtol)

		bf := backend.Conv2DBwdFilter{Conv2DShape: g}
		dw, db := make([]float32, g.WLen()), make([]float32, g.K)
		ref.Conv2DBwdFilter(bf, x, dy, dw, db)
		for _, splits := range []int{1, 3, 0} {
			bufs = tileBufs(t, d, [][]float32{x, dy, make([]float32, len(dw)), make([]float32, len(db))}, 2, 3)
			require.NoError(t, d.convBwdFilterWith(tl, bf, bufs, splits))
			name := fmt.Sprintf("conv2d_bwd_filter %s splits=%d %+v", tl.name, splits, g)
			tileCheck(t, d, name+" dw", bufs[2], dw, atol, rtol)
			tileCheck(t, d, name+" db", bufs[3], db, atol, rtol)
		}
		checkMaskedConvTiling(t, d, rng, tl, g, x, w, dy)
	}
}

// checkMaskedConvTiling compares conv2d_bwd_data (tiled and direct) and
// conv2d_bwd_filter (with and without split-K) with MaskRelu, reading dy
// masked by a random ReLU output, with the reference.
func checkMaskedConvTiling(t *testing.T, d *Device, rng *rand.Rand, tl tiling, g backend.Conv2DShape, x, w, dy []float32) {
	t.Helper()
	const atol, rtol = 2e-4, 2e-4
	ym := tileRand(rng, g.YLen())
	bd := backend.Conv2DBwdData{Conv2DShape: g, MaskRelu: 1}
	dx := make([]float32, g.XLen())
	require.NoError(t, ref.Run(bd, dy, w, dx, ym))
	bufs := tileBufs(t, d, [][]float32{dy, w, dx, ym}, 2)
	require.NoError(t, d.convBwdDataWith(tl, bd, bufs))
	tileCheck(t, d, fmt.Sprintf("conv2d_bwd_data mask_relu %s %+v", tl.name, g), bufs[2], dx, atol, rtol)
	bufs = tileBufs(t, d, [][]float32{dy, w, dx, ym}, 2)
	require.NoError(t, d.convBwdDataDirect(bd, bufs))
	tileCheck(t, d, fmt.Sprintf("conv2d_bwd_data_direct mask_relu %+v", g), bufs[2], dx, atol, rtol)

	bf := backend.Conv2DBwdFilter{Conv2DShape: g, MaskRelu: 1}
	dw, db := make([]float32, g.WLen()), make([]float32, g.K)
	require.NoError(t, ref.Run(bf, x, dy, dw, db, ym))
	for _, splits := range []int{1, 3} {
		bufs = tileBufs(t, d, [][]float32{x, dy, make([]float32, len(dw)), make([]float32, len(db)), ym}, 2, 3)
		require.NoError(t, d.convBwdFilterWith(tl, bf, bufs, splits))
		name := fmt.Sprintf("conv2d_bwd_filter mask_relu %s splits=%d %+v", tl.name, splits, g)
		tileCheck(t, d, name+" dw", bufs[2], dw, atol, rtol)
		tileCheck(t, d, name+" db", bufs[3], db, atol, rtol)
	}
}

// TestConvWideTilingsMatchRef checks the wider CPU-only tilings:
// tilingCPU96 and tilingFwdCPU128 of conv2d_fwd, tilingCPU96 of
// conv2d_bwd_data and tilingCPU128 of conv2d_bwd_filter (with and without
// split-K), on the odd geometries plus channel counts around their tile
// heights.
func TestConvWideTilingsMatchRef(t *testing.T) {
	d := openTileTest(t)
	rng := rand.New(rand.NewSource(9))
	cases := append(convCases(),
		backend.NewConv2DShape(2, 97, 6, 5, 131, 3, 3, 1, 1),
		backend.NewConv2DShape(1, 192, 4, 4, 256, 3, 3, 1, 1),
		backend.NewConv2DShape(2, 95, 9, 9, 127, 3, 3, 2, 1),
		// fwd blocks of 16 pixels over 1-4 output rows, image
		// boundaries, stride 1 with padding and a ragged pixel count.
		backend.NewConv2DShape(3, 7, 7, 5, 96, 3, 3, 1, 1),
		backend.NewConv2DShape(2, 3, 21, 19, 130, 5, 5, 1, 2),
		backend.NewConv2DShape(1, 2, 30, 29, 97, 11, 11, 4, 1))
	for _, g := range cases {
		require.NoError(t, g.Validate())
		x, w, dy := tileRand(rng, g.XLen()), tileRand(rng, g.WLen()), tileRand(rng, g.YLen())
		const atol, rtol = 2e-4, 2e-4

		b := tileRand(rng, int(g.K))
		fwd := backend.Conv2DFwd{Conv2DShape: g}
		y := make([]float32, g.YLen())
		ref.Conv2DFwd(fwd, x, w, b, y)
		for _, tl := range []tiling{tilingCPU96, tilingFwdCPU128} {
			fb := tileBufs(t, d, [][]float32{x, w, b, make([]float32, len(y))}, 3)
			require.NoError(t, d.convFwdWith(tl, fwd, fb))
			tileCheck(t, d, fmt.Sprintf("conv2d_fwd %s %+v", tl.name, g), fb[3], y, atol, rtol)
		}

		bd := backend.Conv2DBwdData{Conv2DShape: g}
		dx := make([]float32, g.XLen())
		ref.Conv2DBwdData(bd, dy, w, dx)
		bufs := tileBufs(t, d, [][]float32{dy, w, make([]float32, len(dx))}, 2)
		require.NoError(t, d.convBwdDataWith(tilingCPU96, bd, bufs))
		tileCheck(t, d, fmt.Sprintf("conv2d_bwd_data_cpu96 %+v", g), bufs[2], dx, atol, rtol)

		bf := backend.Conv2DBwdFilter{Conv2DShape: g}
		dw, db := make([]float32, g.WLen()), make([]float32, g.K)
		ref.Conv2DBwdFilter(bf, x, dy, dw, db)
		for _, splits := range []int{1, 3, 0} {
			bufs = tileBufs(t, d, [][]float32{x, dy, make([]float32, len(dw)), make([]float32, len(db))}, 2, 3)
			require.NoError(t, d.convBwdFilterWith(tilingCPU128, bf, bufs, splits))
			name := fmt.Sprintf("conv2d_bwd_filter_cpu128 splits=%d %+v", splits, g)
			tileCheck(t, d, name+" dw", bufs[2], dw, atol, rtol)
			tileCheck(t, d, name+" db", bufs[3], db, atol, rtol)
		}
	}
	for _, g := range cases[len(cases)-6 : len(cases)-3] {
		x, w, dy := tileRand(rng, g.XLen()), tileRand(rng, g.WLen()), tileRand(rng, g.YLen())
		checkMaskedConvTiling(t, d, rng, tilingCPU96, g, x, w, dy)
		checkMaskedConvTiling(t, d, rng, tilingCPU128, g, x, w, dy)
	}
}

// TestConvTilingChoice checks which tiling the launchers pick per layer.
func TestConvTilingChoice(t *testing.T) {
	assert.Equal(t, tilingCPU96, bwdDataTiling(tilingCPU, 96))
	assert.Equal(t, tilingCPU, bwdDataTiling(tilingCPU, 256))
	assert.Equal(t, tilingCPU96, bwdDataTiling(tilingCPU, 384))
	assert.Equal(t, tilingCPU, bwdDataTiling(tilingCPU, 64))
	assert.Equal(t, tilingGPU, bwdDataTiling(tilingGPU, 96))
	assert.Equal(t, tilingCPU128, bwdFilterTiling(tilingCPU, 256))
	assert.Equal(t, tilingCPU128, bwdFilterTiling(tilingCPU, 384))
	assert.Equal(t, tilingCPU, bwdFilterTiling(tilingCPU, 96))
	assert.Equal(t, tilingCPU, bwdFilterTiling(tilingCPU, 130))
	assert.Equal(t, tilingGPU, bwdFilterTiling(tilingGPU, 256))
	assert.Equal(t, tilingCPU96, fwdTiling(tilingCPU, 96))
	assert.Equal(t, tilingFwdCPU128, fwdTiling(tilingCPU, 256))
	assert.Equal(t, tilingFwdCPU128, fwdTiling(tilingCPU, 384))
	assert.Equal(t, tilingCPU, fwdTiling(tilingCPU, 64))
	assert.Equal(t, tilingCPU, fwdTiling(tilingCPU, 20))
	assert.Equal(t, tilingGPU, fwdTiling(tilingGPU, 96))
}
