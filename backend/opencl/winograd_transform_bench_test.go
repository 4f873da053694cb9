package opencl

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// BenchmarkWinogradTransforms times each Winograd transform alone (input,
// output, dy; the filter transforms are a few ms) at AlexNet's layers and
// batch 128 (CROSSGRAD_WINOGRAD_BATCH sets another) and reports GB/s of the
// bytes it must move at least: its inputs read once, its outputs written
// once. The transforms are memory-bound, so GB/s against the bench's copy
// ceiling says how far each is from its floor.
func BenchmarkWinogradTransforms(b *testing.B) {
	d := openBench(b)
	batch := winogradBenchBatch(b, 128)
	for i, l := range alexNetConvs(batch)[1:] {
		g := l.g
		name := []string{"conv.3", "conv.6", "conv.8", "conv.10"}[i]
		fwd, _ := backend.WinogradConv(g, false)
		bwd, _ := backend.WinogradConv(g, true)
		grad, _ := backend.WinogradGrad(g)
		for _, c := range []struct {
			pass string
			p    backend.Params
		}{
			{"forward-input", fwd.Input},
			{"forward-output", fwd.Output},
			{"backward-data-input", bwd.Input},
			{"backward-data-output", bwd.Output},
			{"backward-filter-dy", grad.Dy},
		} {
			b.Run(fmt.Sprintf("%s/%s", name, c.pass), func(b *testing.B) {
				sizes := c.p.BufferSizes()
				bufs := benchBuffers(b, d, sizes...)
				args := make([]backend.Buffer, len(bufs))
				bytes := 0.0
				for j, buf := range bufs {
					args[j] = buf
					bytes += 4 * float64(sizes[j])
				}
				require.NoError(b, d.Dispatch(c.p, args...))
				require.NoError(b, d.Sync())
				b.ResetTimer()
				for range b.N {
					require.NoError(b, d.Dispatch(c.p, args...))
				}
				require.NoError(b, d.Sync())
				b.StopTimer()
				b.ReportMetric(bytes*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GB/s")
			})
		}
	}
}
