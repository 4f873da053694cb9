package ref

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelFor calls body(i) for every i in [0, n) from up to GOMAXPROCS
// goroutines. Every body owns the outputs of its i, so results do not depend
// on scheduling.
func parallelFor(n int, body func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			body(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				body(i)
			}
		})
	}
	wg.Wait()
}

// validOut returns the range [lo, hi) of output positions o in [0, out) whose
// input position o*stride - pad + k lies inside [0, in).
func validOut(out, in, stride, pad, k int) (lo, hi int) {
	// o*stride >= pad-k  and  o*stride <= in-1+pad-k
	if d := pad - k; d > 0 {
		lo = (d + stride - 1) / stride
	}
	if e := in - 1 + pad - k; e >= 0 {
		hi = min(e/stride+1, out)
	}
	if lo > hi {
		lo = hi
	}
	return lo, hi
}
