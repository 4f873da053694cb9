package ref

import (
	"testing"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/internal/testutil"
)

// Benchmarks on AlexNet layer shapes at batch 8 (times scale linearly with
// the batch): go test -run x -bench . ./backend/ref/
func benchConv(b *testing.B, g backend.Conv2DShape) {
	r := testutil.NewRNG(1)
	x, w, bias, y := testutil.RandSlice(r, g.XLen()), testutil.RandSlice(r, g.WLen()), testutil.RandSlice(r, int(g.K)), make([]float32, g.YLen())
	dx, dw := make([]float32, g.XLen()), make([]float32, g.WLen())
	b.Run("fwd", func(b *testing.B) {
		for b.Loop() {
			Conv2DFwd(backend.Conv2DFwd{Conv2DShape: g}, x, w, bias, y)
		}
	})
	b.Run("bwd_data", func(b *testing.B) {
		for b.Loop() {
			Conv2DBwdData(backend.Conv2DBwdData{Conv2DShape: g}, y, w, dx)
		}
	})
	b.Run("bwd_filter", func(b *testing.B) {
		for b.Loop() {
			Conv2DBwdFilter(backend.Conv2DBwdFilter{Conv2DShape: g}, x, y, dw, bias)
		}
	})
}

func BenchmarkAlexNetConv1(b *testing.B) {
	benchConv(b, backend.NewConv2DShape(8, 1, 224, 224, 96, 11, 11, 4, 1))
}

func BenchmarkAlexNetConv2(b *testing.B) {
	benchConv(b, backend.NewConv2DShape(8, 96, 26, 26, 256, 5, 5, 1, 2))
}

func BenchmarkAlexNetConv3(b *testing.B) {
	benchConv(b, backend.NewConv2DShape(8, 256, 12, 12, 384, 3, 3, 1, 1))
}

func BenchmarkAlexNetFC1(b *testing.B) {
	const m, n, k = 8, 4096, 6400
	r := testutil.NewRNG(2)
	x, w, y := testutil.RandSlice(r, m*k), testutil.RandSlice(r, n*k), make([]float32, m*n)
	for b.Loop() {
		Gemm(backend.Gemm{M: m, N: n, K: k, TransB: 1, Alpha: 1}, x, w, y)
	}
}

func BenchmarkAlexNetFC1WeightGrad(b *testing.B) {
	const m, n, k = 4096, 6400, 8 // dW = dy^T x
	r := testutil.NewRNG(3)
	dy, x, dw := testutil.RandSlice(r, k*m), testutil.RandSlice(r, k*n), make([]float32, m*n)
	for b.Loop() {
		Gemm(backend.Gemm{M: m, N: n, K: k, TransA: 1, Alpha: 1}, dy, x, dw)
	}
}

func BenchmarkResize28To224(b *testing.B) {
	p := backend.ResizeBilinear{N: 128, InH: 28, InW: 28, OutH: 224, OutW: 224, Packed: 1}
	src, dst := make([]float32, p.SrcLen()), make([]float32, 128*224*224)
	for b.Loop() {
		ResizeBilinear(p, src, dst)
	}
}
