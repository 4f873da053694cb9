package bench

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// Work is the arithmetic and the minimum memory traffic of one dispatch:
// what GFLOP/s and GB/s are computed from.
type Work struct {
	// FLOP counts multiply-adds as two; 0 for kernels that only move data
	// (their cost is Bytes).
	FLOP float64
	// Bytes is the traffic of reading every input once and writing every
	// output once (float32 elements; a lower bound for the real traffic).
	Bytes float64
	// Compute marks kernels held to the FMA ceiling (convolutions, GEMM);
	// the others are held to the copy ceiling.
	Compute bool
}

// WorkOf returns the work of one dispatch of p.
func WorkOf(p backend.Params) Work {
	f := func(n ...uint32) float64 {
		v := 1.0
		for _, x := range n {
			v *= float64(x)
		}
		return v
	}
	switch q := p.(type) {
	case backend.Conv2DFwd:
		g := q.Conv2DShape
		return Work{FLOP: 2 * f(g.N, g.K, g.OH, g.OW, g.C, g.R, g.S), Compute: true,
			Bytes: 4 * float64(g.XLen()+g.WLen()+int(g.K)+g.YLen())}
	case backend.Conv2DBwdData:
		g := q.Conv2DShape
		return Work{FLOP: 2 * f(g.N, g.K, g.OH, g.OW, g.C, g.R, g.S), Compute: true,
			Bytes: 4 * float64(g.YLen()+g.WLen()+g.XLen())}
	case backend.Conv2DBwdFilter:
		g := q.Conv2DShape
		return Work{FLOP: 2*f(g.N, g.K, g.OH, g.OW, g.C, g.R, g.S) + f(g.N, g.K, g.OH, g.OW), Compute: true,
			Bytes: 4 * float64(g.XLen()+g.YLen()+g.WLen()+int(g.K))}
	case backend.Gemm:
		w := Work{FLOP: 2 * f(q.M, q.N, q.K), Compute: true, Bytes: 4 * (f(q.M, q.K) + f(q.K, q.N) + f(q.M, q.N))}
		if q.Beta != 0 {
			w.Bytes += 4 * f(q.M, q.N)
		}
		return w
	case backend.MaxPoolFwd:
		return Work{Bytes: 4 * float64(q.XLen()+2*q.YLen())}
	case backend.MaxPoolBwd:
		return Work{Bytes: 4 * float64(2*q.YLen()+q.XLen())}
	case backend.ReluFwd:
		return Work{Bytes: 8 * f(q.N)}
	case backend.ReluBwd:
		return Work{Bytes: 12 * f(q.N)}
	case backend.DropoutFwd:
		return Work{Bytes: 8 * f(q.N)}
	case backend.DropoutBwd:
		return Work{Bytes: 8 * f(q.N)}
	case backend.BiasAdd:
		return Work{Bytes: 4 * (2*f(q.Rows, q.Cols) + f(q.Cols))}
	case backend.BiasGrad:
		return Work{Bytes: 4 * (f(q.Rows, q.Cols) + f(q.Cols))}
	case backend.SoftmaxXent:
		return Work{Bytes: 4 * (2*f(q.N, q.C) + f(q.N) + 2)}
	case backend.Adam:
		return Work{Bytes: 4 * 7 * f(q.N)} // p, g, m, v read; p, m, v written
	case backend.Fill:
		return Work{Bytes: 4 * f(q.N)}
	case backend.Axpy:
		return Work{Bytes: 12 * f(q.N)}
	case backend.Scale:
		return Work{Bytes: 8 * f(q.N)}
	case backend.ResizeBilinear:
		return Work{Bytes: 4 * (float64(q.SrcLen()) + f(q.N, q.OutH, q.OutW))}
	case backend.CountNonfinite:
		return Work{Bytes: 4 * (f(q.N) + 1)}
	}
	return Work{}
}

// Add returns the summed work of w and o (Compute if either is).
func (w Work) Add(o Work) Work {
	return Work{FLOP: w.FLOP + o.FLOP, Bytes: w.Bytes + o.Bytes, Compute: w.Compute || o.Compute}
}

// ShapeOf describes the shape of a dispatch in a few words, e.g.
// "N8 C96 26x26 -> K256 k5 s1 p2" or "M8 N4096 K6400 B^T".
func ShapeOf(p backend.Params) string {
	conv := func(g backend.Conv2DShape) string {
		return fmt.Sprintf("N%d C%d %dx%d -> K%d %dx%d k%dx%d s%d p%d", g.N, g.C, g.H, g.W, g.K, g.OH, g.OW, g.R, g.S, g.StrideH, g.PadH)
	}
	pool := func(g backend.Pool2DShape) string {
		return fmt.Sprintf("N%d C%d %dx%d -> %dx%d k%d s%d", g.N, g.C, g.H, g.W, g.OH, g.OW, g.KH, g.StrideH)
	}
	switch q := p.(type) {
	case backend.Conv2DFwd:
		return conv(q.Conv2DShape)
	case backend.Conv2DBwdData:
		return conv(q.Conv2DShape)
	case backend.Conv2DBwdFilter:
		return conv(q.Conv2DShape)
	case backend.MaxPoolFwd:
		return pool(q.Pool2DShape)
	case backend.MaxPoolBwd:
		return pool(q.Pool2DShape)
	case backend.Gemm:
		s := fmt.Sprintf("M%d N%d K%d", q.M, q.N, q.K)
		if q.TransA != 0 {
			s += " A^T"
		}
		if q.TransB != 0 {
			s += " B^T"
		}
		return s
	case backend.BiasAdd:
		return fmt.Sprintf("%dx%d", q.Rows, q.Cols)
	case backend.BiasGrad:
		return fmt.Sprintf("%dx%d", q.Rows, q.Cols)
	case backend.SoftmaxXent:
		return fmt.Sprintf("N%d C%d", q.N, q.C)
	case backend.ResizeBilinear:
		return fmt.Sprintf("N%d %dx%d -> %dx%d", q.N, q.InH, q.InW, q.OutH, q.OutW)
	case backend.ReluFwd:
		return fmt.Sprintf("n=%d", q.N)
	case backend.ReluBwd:
		return fmt.Sprintf("n=%d", q.N)
	case backend.DropoutFwd:
		return fmt.Sprintf("n=%d p=%g", q.N, q.P)
	case backend.DropoutBwd:
		return fmt.Sprintf("n=%d p=%g", q.N, q.P)
	case backend.Adam:
		return fmt.Sprintf("n=%d", q.N)
	case backend.Fill:
		return fmt.Sprintf("n=%d", q.N)
	case backend.Axpy:
		return fmt.Sprintf("n=%d", q.N)
	case backend.Scale:
		return fmt.Sprintf("n=%d", q.N)
	case backend.CountNonfinite:
		return fmt.Sprintf("n=%d", q.N)
	}
	return ""
}
