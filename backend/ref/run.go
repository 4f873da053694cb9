package ref

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// Run validates p, checks that bufs match p.BufferSizes() in count and
// length, and runs the kernel on the slices (in dispatch order). It is the
// checked entry point to the kernel functions, which panic on short slices.
// Aliased slices are only allowed where the kernel's doc comment allows them
// (see Aliasable).
func Run(p backend.Params, bufs ...[]float32) error {
	if p == nil {
		return fmt.Errorf("ref: nil params")
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("ref %s: %w", p.Kernel(), err)
	}
	want := p.BufferSizes()
	if len(bufs) != len(want) {
		return fmt.Errorf("ref %s: got %d buffers, the kernel takes %d", p.Kernel(), len(bufs), len(want))
	}
	for i, b := range bufs {
		if len(b) < want[i] {
			return fmt.Errorf("ref %s: buffer %d holds %d elements, params need %d", p.Kernel(), i, len(b), want[i])
		}
	}
	if !Aliasable(p.Kernel()) {
		for i := range bufs {
			for j := range i {
				if overlap(bufs[i], bufs[j]) {
					return fmt.Errorf("ref %s: buffers %d and %d overlap; the kernel needs distinct buffers", p.Kernel(), j, i)
				}
			}
		}
	}
	return run(p, bufs)
}

// Aliasable reports whether kernel k computes each output element from the
// same-index input elements only, so its buffers may be the same buffer
// (relu, dropout, axpy, adam).
func Aliasable(k backend.Kernel) bool {
	switch k {
	case backend.KReluFwd, backend.KReluBwd, backend.KDropoutFwd, backend.KDropoutBwd, backend.KAxpy, backend.KAdam:
		return true
	}
	return false
}

func overlap(a, b []float32) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	return &a[0] == &b[0] // buffers are whole allocations: overlap means same start
}

// run dispatches to the kernel function; bufs are already checked.
func run(p backend.Params, b [][]float32) error {
	switch q := p.(type) {
	case backend.Conv2DFwd:
		Conv2DFwd(q, b[0], b[1], b[2], b[3])
	case backend.Conv2DBwdData:
		Conv2DBwdData(q, b[0], b[1], b[2])
	case backend.Conv2DBwdFilter:
		Conv2DBwdFilter(q, b[0], b[1], b[2], b[3])
	case backend.MaxPoolFwd:
		MaxPoolFwd(q, b[0], b[1], b[2])
	case backend.MaxPoolBwd:
		MaxPoolBwd(q, b[0], b[1], b[2])
	case backend.ReluFwd:
		ReluFwd(q, b[0], b[1])
	case backend.ReluBwd:
		ReluBwd(q, b[0], b[1], b[2])
	case backend.DropoutFwd:
		DropoutFwd(q, b[0], b[1])
	case backend.DropoutBwd:
		DropoutBwd(q, b[0], b[1])
	case backend.Gemm:
		Gemm(q, b[0], b[1], b[2])
	case backend.BiasAdd:
		BiasAdd(q, b[0], b[1])
	case backend.BiasGrad:
		BiasGrad(q, b[0], b[1])
	case backend.SoftmaxXent:
		SoftmaxXent(q, b[0], b[1], b[2], b[3])
	case backend.Adam:
		Adam(q, b[0], b[1], b[2], b[3])
	case backend.Fill:
		Fill(q, b[0])
	case backend.Axpy:
		Axpy(q, b[0], b[1])
	case backend.Scale:
		Scale(q, b[0])
	case backend.ResizeBilinear:
		ResizeBilinear(q, b[0], b[1])
	case backend.CountNonfinite:
		CountNonfinite(q, b[0], b[1])
	default:
		return fmt.Errorf("ref: no kernel for params %T (%s)", p, p.Kernel())
	}
	return nil
}
