package opencl

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// winogradPass is one planned Winograd pass with its buffers: w, b (one
// unread element without bias), in, out and the scratch U, V, M.
type winogradPass struct {
	pl                     backend.WinogradPlan
	w, b, in, out, u, v, m *Buffer
}

func newWinogradPass(b *testing.B, d *Device, g backend.Conv2DShape, backwardData bool) winogradPass {
	pl, ok := backend.WinogradConv(g, backwardData)
	require.True(b, ok, g.Shape())
	bufs := benchBuffers(b, d, pl.Filter.BufferSizes()[0], pl.Output.BufferSizes()[1], pl.Input.BufferSizes()[0],
		pl.Output.BufferSizes()[2], pl.ULen, pl.VLen, pl.MLen)
	return winogradPass{pl, bufs[0], bufs[1], bufs[2], bufs[3], bufs[4], bufs[5], bufs[6]}
}

// queue queues the pass's four dispatches.
func (w winogradPass) queue(d *Device) error {
	for _, s := range []struct {
		p    backend.Params
		bufs []backend.Buffer
	}{
		{w.pl.Filter, []backend.Buffer{w.w, w.u}},
		{w.pl.Input, []backend.Buffer{w.in, w.v}},
		{w.pl.Gemm, []backend.Buffer{w.u, w.v, w.m}},
		{w.pl.Output, []backend.Buffer{w.m, w.b, w.out}},
	} {
		if err := d.Dispatch(s.p, s.bufs...); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkWinograd times AlexNet's 5x5 conv.3 (26x26 planes, as four 3x3
// blocks) and 3x3 layers (conv.6, conv.8, conv.10: 12x12 planes from a 224
// input) at batch 16 (CROSSGRAD_WINOGRAD_BATCH
// sets another), forward plus input gradient
// per step: Winograd F(2x2,3x3) (filter, input and output transforms and
// the batched gemm, with the default tiles) against the implicit-GEMM
// conv2d_fwd and conv2d_bwd_data (default tiles). GFLOP/s counts the
// direct convolutions' 2*2*N*K*C*R*S*OH*OW flops for both; the interleaved
// rounds (medians) give ms per step of each and the speedup x-implicit.
func BenchmarkWinograd(b *testing.B) {
	d := openBench(b)
	batch := winogradBenchBatch(b, 16)
	for i, l := range alexNetConvs(batch)[1:] {
		g := l.g
		flops := 2 * 2 * float64(g.N) * float64(g.K) * float64(g.C*g.R*g.S) * float64(g.OH*g.OW)
		name := []string{"conv.3", "conv.6", "conv.8", "conv.10"}[i]
		b.Run(name, func(b *testing.B) {
			fwd, bwd := newWinogradPass(b, d, g, false), newWinogradPass(b, d, g, true)
			wino := func() error {
				if err := fwd.queue(d); err != nil {
					return err
				}
				return bwd.queue(d)
			}
			pf, pd := backend.Conv2DFwd{Conv2DShape: g}, backend.Conv2DBwdData{Conv2DShape: g}
			fb := benchBuffers(b, d, pf.BufferSizes()...)
			db := benchBuffers(b, d, pd.BufferSizes()...)
			implicit := func() error {
				if err := d.Dispatch(pf, fb[0], fb[1], fb[2], fb[3]); err != nil {
					return err
				}
				return d.Dispatch(pd, db[0], db[1], db[2])
			}
			require.NoError(b, implicit())
			benchLoop(b, d, flops, wino)
			ms := map[string][]float64{}
			for range benchRounds {
				for _, c := range []struct {
					name string
					f    func() error
				}{{"winograd", wino}, {"implicit", implicit}} {
					start := time.Now()
					require.NoError(b, c.f())
					require.NoError(b, d.Sync())
					ms[c.name] = append(ms[c.name], float64(time.Since(start).Microseconds())/1000)
				}
			}
			w, im := median(ms["winograd"]), median(ms["implicit"])
			b.ReportMetric(w, "winograd-ms")
			b.ReportMetric(im, "implicit-ms")
			b.ReportMetric(im/w, "x-implicit")
			b.Logf("%s %s fwd+bwd_data: winograd %.1f ms, implicit GEMM %.1f ms (medians of %d interleaved rounds), %.2fx",
				name, g.Shape(), w, im, benchRounds, im/w)
		})
	}
}

// winogradBenchBatch is CROSSGRAD_WINOGRAD_BATCH, else def.
func winogradBenchBatch(b *testing.B, def int) int {
	s := os.Getenv("CROSSGRAD_WINOGRAD_BATCH")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	require.NoError(b, err, "CROSSGRAD_WINOGRAD_BATCH")
	require.Positive(b, n, "CROSSGRAD_WINOGRAD_BATCH")
	return n
}
