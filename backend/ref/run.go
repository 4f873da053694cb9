package ref

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// Run validates p, checks that bufs match p.BufferSizes() in count and
// length, and runs the kernel on the slices (in dispatch order). It is the
// checked entry point to the kernel functions, which panic on short slices.
// Two slices may be the same only where the kernel's roles allow it (see
// backend.MayShare).
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
	for i := range bufs {
		for j := range i {
			if overlap(bufs[i], bufs[j]) && !backend.MayShare(p, j, i) {
				return fmt.Errorf("ref %s: buffers %d and %d overlap; the kernel needs distinct buffers", p.Kernel(), j, i)
			}
		}
	}
	run, ok := kernels[p.Kernel()]
	if !ok {
		return fmt.Errorf("ref: no kernel for params %T (%s)", p, p.Kernel())
	}
	return run(p, bufs)
}

func overlap(a, b []float32) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	return &a[0] == &b[0] // buffers are whole allocations: overlap means same start
}

// runner runs one kernel function on buffers already checked by Run.
type runner func(p backend.Params, b [][]float32) error

// typed adapts a kernel function taking its params struct to a runner.
func typed[T backend.Params](f func(q T, b [][]float32)) runner {
	return func(p backend.Params, b [][]float32) error {
		q, err := backend.ParamsAs[T](p)
		if err != nil {
			return fmt.Errorf("ref %w", err)
		}
		f(q, b)
		return nil
	}
}

// kernels is the reference implementation of every kernel.
var kernels = map[backend.Kernel]runner{
	backend.KConv2DFwd: typed(func(q backend.Conv2DFwd, b [][]float32) { Conv2DFwd(q, b[0], b[1], b[2], b[3]) }),
	backend.KConv2DBwdData: typed(func(q backend.Conv2DBwdData, b [][]float32) {
		Conv2DBwdData(q, reluMasked(q.MaskRelu, q.YLen(), b[0], b[len(b)-1]), b[1], b[2])
	}),
	backend.KConv2DBwdFilter: typed(func(q backend.Conv2DBwdFilter, b [][]float32) {
		Conv2DBwdFilter(q, b[0], reluMasked(q.MaskRelu, q.YLen(), b[1], b[len(b)-1]), b[2], b[3])
	}),
	backend.KMaxPoolFwd:     typed(func(q backend.MaxPoolFwd, b [][]float32) { MaxPoolFwd(q, b[0], b[1], b[2]) }),
	backend.KMaxPoolBwd:     typed(func(q backend.MaxPoolBwd, b [][]float32) { MaxPoolBwd(q, b[0], b[1], b[2]) }),
	backend.KReluFwd:        typed(func(q backend.ReluFwd, b [][]float32) { ReluFwd(q, b[0], b[1]) }),
	backend.KReluBwd:        typed(func(q backend.ReluBwd, b [][]float32) { ReluBwd(q, b[0], b[1], b[2]) }),
	backend.KDropoutFwd:     typed(func(q backend.DropoutFwd, b [][]float32) { DropoutFwd(q, b[0], b[1]) }),
	backend.KDropoutBwd:     typed(func(q backend.DropoutBwd, b [][]float32) { DropoutBwd(q, b[0], b[1]) }),
	backend.KGemm:           typed(func(q backend.Gemm, b [][]float32) { Gemm(q, b[0], b[1], b[2]) }),
	backend.KBiasAdd:        typed(func(q backend.BiasAdd, b [][]float32) { BiasAdd(q, b[0], b[1]) }),
	backend.KBiasGrad:       typed(biasGrad),
	backend.KSoftmaxXent:    typed(func(q backend.SoftmaxXent, b [][]float32) { SoftmaxXent(q, b[0], b[1], b[2], b[3]) }),
	backend.KAdam:           typed(func(q backend.Adam, b [][]float32) { Adam(q, b[0], b[1], b[2], b[3]) }),
	backend.KFill:           typed(func(q backend.Fill, b [][]float32) { Fill(q, b[0]) }),
	backend.KAxpy:           typed(func(q backend.Axpy, b [][]float32) { Axpy(q, b[0], b[1]) }),
	backend.KScale:          typed(func(q backend.Scale, b [][]float32) { Scale(q, b[0]) }),
	backend.KResizeBilinear: typed(func(q backend.ResizeBilinear, b [][]float32) { ResizeBilinear(q, b[0], b[1]) }),
	backend.KCountNonfinite: typed(func(q backend.CountNonfinite, b [][]float32) { CountNonfinite(q, b[0], b[1]) }),
	backend.KWinogradInput: typed(func(q backend.WinogradInput, b [][]float32) {
		WinogradInput(q, reluMasked(q.MaskRelu, q.BufferSizes()[0], b[0], b[len(b)-1]), b[1])
	}),
	backend.KWinogradFilter: typed(func(q backend.WinogradFilter, b [][]float32) { WinogradFilter(q, b[0], b[1]) }),
	backend.KWinogradOutput: typed(func(q backend.WinogradOutput, b [][]float32) { WinogradOutput(q, b[0], b[1], b[2]) }),
	backend.KWinogradDy: typed(func(q backend.WinogradDy, b [][]float32) {
		WinogradDy(q, reluMasked(q.MaskRelu, q.BufferSizes()[0], b[0], b[len(b)-1]), b[1])
	}),
	backend.KWinogradDw: typed(func(q backend.WinogradDw, b [][]float32) { WinogradDw(q, b[0], b[1], b[2], b[3]) }),
}

// biasGrad runs BiasGrad over dy, db and, with MaskRelu, y.
func biasGrad(q backend.BiasGrad, b [][]float32) {
	var y []float32
	if q.MaskRelu != 0 {
		y = b[2]
	}
	BiasGrad(q, b[0], b[1], y)
}

// reluMasked is dy when mask is 0, else a copy of dy's first n elements
// masked as ReluBwd by the ReLU output y: the operand a kernel with
// MaskRelu reads (the kernel functions themselves read dy as given).
func reluMasked(mask uint32, n int, dy, y []float32) []float32 {
	if mask == 0 {
		return dy
	}
	out := make([]float32, n)
	ReluBwd(backend.ReluBwd{N: uint32(n)}, y, dy, out)
	return out
}
