package bench

import "github.com/crossgrad/crossgrad/backend"

// Work is the arithmetic and the minimum memory traffic of one dispatch:
// what GFLOP/s and GB/s are computed from (see backend.Work).
type Work = backend.Work

// WorkOf returns the work of one dispatch of p, as the kernel declares it.
func WorkOf(p backend.Params) Work {
	if p == nil {
		return Work{}
	}
	return p.Work()
}

// ShapeOf describes the shape of a dispatch in a few words, e.g.
// "N8 C96 26x26 -> K256 k5 s1 p2" or "M8 N4096 K6400 B^T", as the kernel
// declares it.
func ShapeOf(p backend.Params) string {
	if p == nil {
		return ""
	}
	return p.Shape()
}
