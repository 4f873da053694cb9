package vulkan

import (
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// gemmBenchShapes are the benchmarked products: a square one and the seed
// AlexNet's fully connected layers (6400 -> 4096 -> 4096 -> 10) at batch 128
// (forward: batch x out x in).
var gemmBenchShapes = []struct {
	name    string
	m, n, k int
}{
	{"square_512", 512, 512, 512},
	{"alexnet_fc1_b128", 128, 4096, 6400},
	{"alexnet_fc2_b128", 128, 4096, 4096},
	{"alexnet_fc3_b128", 128, 10, 4096},
}

// gemmBench holds the operands of one product on a device.
type gemmBench struct {
	d       *Device
	p       backend.Gemm
	a, b, c backend.Buffer
}

func newGemmBench(tb testing.TB, d *Device, m, n, k int) *gemmBench {
	g := &gemmBench{d: d, p: backend.Gemm{M: uint32(m), N: uint32(n), K: uint32(k), Alpha: 1}}
	r := rand.New(rand.NewSource(1))
	g.a, g.b, g.c = randomBuffer(tb, d, r, m*k), randomBuffer(tb, d, r, k*n), allocT(tb, d, m*n)
	return g
}

// randomBuffer is a new buffer of n values uniform in [-0.5, 0.5) from r.
func randomBuffer(tb testing.TB, d *Device, r *rand.Rand, n int) backend.Buffer {
	buf := allocT(tb, d, n)
	v := make([]float32, n)
	for i := range v {
		v[i] = r.Float32() - 0.5
	}
	require.NoError(tb, d.Write(buf, 0, v))
	return buf
}

func (g *gemmBench) release() { g.a.Release(); g.b.Release(); g.c.Release() }

// tiled queues the production gemm kernel.
func (g *gemmBench) tiled() error { return g.d.Dispatch(g.p, g.a, g.b, g.c) }

// baseline queues gemm_baseline.comp, the 16x16 shared-tile textbook kernel.
func (g *gemmBench) baseline() error {
	d := g.d
	d.mu.Lock()
	defer d.mu.Unlock()
	bufs := []*Buffer{g.a.(*Buffer), g.b.(*Buffer), g.c.(*Buffer)}
	sizes := g.p.BufferSizes()
	ps := &pass{module: "gemm_baseline", groups: [3]uint32{uint32(ceilDiv(int(g.p.N), 16)), uint32(ceilDiv(int(g.p.M), 16)), 1},
		push: pushBytes(g.p), binds: []binding{{b: bufs[0], elems: sizes[0]}, {b: bufs[1], elems: sizes[1]}, {b: bufs[2], elems: sizes[2], write: true}}}
	return d.record("gemm_baseline", []*pass{ps})
}

// timeRuns runs f n times after one warm-up run and returns the mean wall
// time per run (Sync included).
func timeRuns(d *Device, n int, f func() error) (time.Duration, error) {
	if err := f(); err != nil {
		return 0, err
	}
	if err := d.Sync(); err != nil {
		return 0, err
	}
	start := time.Now()
	for range n {
		if err := f(); err != nil {
			return 0, err
		}
	}
	if err := d.Sync(); err != nil {
		return 0, err
	}
	return time.Since(start) / time.Duration(n), nil
}

// BenchmarkGemm reports, per shape, the GFLOP/s of the tiled gemm kernel,
// of the 16x16 shared-tile baseline measured in the same run, and their
// ratio. On lavapipe: go test -run '^$' -bench Gemm -benchtime 3x.
func BenchmarkGemm(b *testing.B) {
	d := openOrSkip(b, Options{})
	defer d.Close()
	b.Logf("device: %s", d.Info())
	for _, s := range gemmBenchShapes {
		b.Run(s.name, func(b *testing.B) {
			g := newGemmBench(b, d, s.m, s.n, s.k)
			defer g.release()
			flop := 2 * float64(s.m) * float64(s.n) * float64(s.k)
			b.ResetTimer()
			tiled, err := timeRuns(d, b.N, g.tiled)
			require.NoError(b, err)
			base, err := timeRuns(d, b.N, g.baseline)
			require.NoError(b, err)
			b.StopTimer()
			b.ReportMetric(flop/tiled.Seconds()/1e9, "GFLOP/s")
			b.ReportMetric(flop/base.Seconds()/1e9, "baseline_GFLOP/s")
			b.ReportMetric(base.Seconds()/tiled.Seconds(), "x_baseline")
			b.Logf("%s: tiling %v", s.name, d.DefaultTile(g.p))
		})
	}
}

// BenchmarkGemmTiles times every tile candidate of the 1024^3 product
// (DefaultTile first) with the device timers and reports GFLOP/s and the
// percentage of the FMA ceiling (peak_fma) measured in the same run. On
// lavapipe: go test -run '^$' -bench GemmTiles -benchtime 1x.
func BenchmarkGemmTiles(b *testing.B) {
	d := openOrSkip(b, Options{})
	defer d.Close()
	const n = 1024
	peak, err := d.PeakFMA(1<<16, 2000)
	require.NoError(b, err)
	b.Logf("FMA ceiling %.1f GFLOP/s", peak)
	g := newGemmBench(b, d, n, n, n)
	defer g.release()
	for _, c := range d.TileCandidates(g.p) {
		b.Run(strings.ReplaceAll(string(c), " ", "_"), func(b *testing.B) {
			t := timeTile(b, d, c, g.p, g.a, g.b, g.c)
			gf := 2 * n * n * n * float64(t.Count) / float64(t.Nanos)
			b.ReportMetric(gf, "GFLOP/s")
			b.ReportMetric(100*gf/peak, "%_of_FMA_ceiling")
		})
	}
}

// BenchmarkTransposedGemmTiles times every tile candidate of cpu-quick's
// fc.3 at batch 128 in its two transposed products, forward y = x*W^T
// (M128 N2048 K2048 B^T) and weight gradient dW = dy^T*x (M2048 N2048
// K128 A^T), with the device timers, reporting GFLOP/s. On lavapipe:
// go test -run '^$' -bench TransposedGemmTiles -benchtime 2x.
func BenchmarkTransposedGemmTiles(b *testing.B) {
	d := openOrSkip(b, Options{})
	defer d.Close()
	r := rand.New(rand.NewSource(1))
	for _, s := range []struct {
		name string
		p    backend.Gemm
	}{
		{"fc3_fwd_BT", backend.Gemm{M: 128, N: 2048, K: 2048, TransB: 1, Alpha: 1}},
		{"fc3_dW_AT", backend.Gemm{M: 2048, N: 2048, K: 128, TransA: 1, Alpha: 1}},
		{"fc0_fwd_BT", backend.Gemm{M: 128, N: 2048, K: 128, TransB: 1, Alpha: 1}},
	} {
		sizes := s.p.BufferSizes()
		a, bb, c := randomBuffer(b, d, r, sizes[0]), randomBuffer(b, d, r, sizes[1]), allocT(b, d, sizes[2])
		for _, cfg := range d.TileCandidates(s.p) {
			b.Run(s.name+"/"+strings.ReplaceAll(string(cfg), " ", "_"), func(b *testing.B) {
				t := timeTile(b, d, cfg, s.p, a, bb, c)
				b.ReportMetric(2*float64(s.p.M)*float64(s.p.N)*float64(s.p.K)*float64(t.Count)/float64(t.Nanos), "GFLOP/s")
			})
		}
		a.Release()
		bb.Release()
		c.Release()
	}
}

// BenchmarkConv reports the GFLOP/s of the three convolution kernels on
// AlexNet's layers (the seed model at 224x224) at batch 1.
func BenchmarkConv(b *testing.B) {
	d := openOrSkip(b, Options{})
	defer d.Close()
	layers := []struct {
		name string
		g    backend.Conv2DShape
	}{
		{"conv1", backend.NewConv2DShape(1, 1, 224, 224, 96, 11, 11, 4, 1)},
		{"conv2", backend.NewConv2DShape(1, 96, 26, 26, 256, 5, 5, 1, 2)},
		{"conv3", backend.NewConv2DShape(1, 256, 12, 12, 384, 3, 3, 1, 1)},
		{"conv4", backend.NewConv2DShape(1, 384, 12, 12, 384, 3, 3, 1, 1)},
		{"conv5", backend.NewConv2DShape(1, 384, 12, 12, 256, 3, 3, 1, 1)},
	}
	r := rand.New(rand.NewSource(1))
	buf := func(n int) backend.Buffer { return randomBuffer(b, d, r, n) }
	for _, l := range layers {
		g := l.g
		x, w, bias, y := buf(g.XLen()), buf(g.WLen()), buf(int(g.K)), buf(g.YLen())
		flop := 2 * float64(g.YLen()) * float64(g.C*g.R*g.S)
		for _, k := range []struct {
			name string
			run  func() error
		}{
			{"fwd", func() error { return d.Dispatch(backend.Conv2DFwd{Conv2DShape: g}, x, w, bias, y) }},
			{"bwd_data", func() error { return d.Dispatch(backend.Conv2DBwdData{Conv2DShape: g}, y, w, x) }},
			{"bwd_filter", func() error { return d.Dispatch(backend.Conv2DBwdFilter{Conv2DShape: g}, x, y, w, bias) }},
		} {
			b.Run(l.name+"_"+k.name, func(b *testing.B) {
				per, err := timeRuns(d, b.N, k.run)
				require.NoError(b, err)
				b.ReportMetric(flop/per.Seconds()/1e9, "GFLOP/s")
			})
		}
		for _, x := range []backend.Buffer{x, w, bias, y} {
			x.Release()
		}
	}
}

// timeTile dispatches p with configuration c b.N times after one untimed
// dispatch (pipeline creation) and returns the device time of those b.N.
func timeTile(b *testing.B, d *Device, c backend.TileConfig, p backend.Params, bufs ...backend.Buffer) backend.KernelTime {
	run := func() error { return d.DispatchTile(c, p, bufs...) }
	require.NoError(b, run())
	require.NoError(b, d.Sync())
	_, err := d.KernelTimes()
	require.NoError(b, err)
	for range b.N {
		require.NoError(b, run())
	}
	require.NoError(b, d.Sync())
	kt, err := d.KernelTimes()
	require.NoError(b, err)
	return kt[p.Kernel()]
}

// BenchmarkConvTiles times the three convolutions of cpu-quick's conv.3 (5x5)
// and conv.8 (3x3) at batch 32 with the default tiling and the largest
// direct blocks of the CPU space (32x8 per invocation, four k-steps per
// trip; with subgroups, with texel loads and, for the forward pass and the
// input gradient's forward form (fwd=1), with texel loads 4-wide along the
// filter), from the device timers. On
// lavapipe: go test -run '^$' -bench ConvTiles -benchtime 3x.
func BenchmarkConvTiles(b *testing.B) {
	d := openOrSkip(b, Options{})
	defer d.Close()
	lanes := max(uint32(8), d.subgroup().size)
	fwd := func(c tileCfg) backend.TileConfig { c.fwd = 1; return c.config() }
	cfgs := []backend.TileConfig{"", directCfg(lanes, 32, 8, 4, 1, 1).config(), texelCfg(lanes, 32, 8, 4, 1).config(),
		texelCfg(lanes, 32, 8, 4, 4).config(), fwd(texelCfg(lanes, 32, 8, 4, 1)), fwd(texelCfg(lanes, 32, 8, 4, 4))}
	r := rand.New(rand.NewSource(1))
	buf := func(n int) backend.Buffer { return randomBuffer(b, d, r, n) }
	for _, l := range []struct {
		name string
		g    backend.Conv2DShape
	}{
		{"conv3", backend.NewConv2DShape(32, 48, 7, 7, 128, 5, 5, 1, 2)},
		{"conv8", backend.NewConv2DShape(32, 192, 3, 3, 192, 3, 3, 1, 1)},
	} {
		g := l.g
		x, w, bias, y := buf(g.XLen()), buf(g.WLen()), buf(int(g.K)), buf(g.YLen())
		flop := 2 * float64(g.YLen()) * float64(g.C*g.R*g.S)
		for _, k := range []struct {
			name string
			p    backend.Params
			bufs []backend.Buffer
		}{
			{"fwd", backend.Conv2DFwd{Conv2DShape: g}, []backend.Buffer{x, w, bias, y}},
			{"bwd_data", backend.Conv2DBwdData{Conv2DShape: g}, []backend.Buffer{y, w, x}},
			{"bwd_filter", backend.Conv2DBwdFilter{Conv2DShape: g}, []backend.Buffer{x, y, w, bias}},
		} {
			for _, c := range cfgs {
				cfg := c
				if cfg == "" {
					cfg = d.DefaultTile(k.p)
				}
				if d.CheckTile(k.p, cfg) != nil {
					continue // 4-wide loads: conv2d_fwd only
				}
				name := l.name + "_" + k.name + "/" + strings.ReplaceAll(string(cfg), " ", "_")
				b.Run(name, func(b *testing.B) {
					t := timeTile(b, d, cfg, k.p, k.bufs...)
					b.ReportMetric(flop*float64(t.Count)/float64(t.Nanos), "GFLOP/s")
				})
			}
		}
		for _, x := range []backend.Buffer{x, w, bias, y} {
			x.Release()
		}
	}
}
