package backend

import "fmt"

// Kernel names one entry of the closed kernel list. The same name is used for
// the OpenCL file (shaders/opencl/NAME.cl), the GLSL file
// (shaders/vulkan/NAME.comp), the reference implementation and the
// conformance case. Each name is declared beside its params struct.
type Kernel string

// kernelTable is the closed kernel list in its stable order, one zero params
// struct per kernel. What the engine knows about a kernel (buffers, roles,
// work, element count) is a method of that struct; see Params.
var kernelTable = []Params{
	Conv2DFwd{}, Conv2DBwdData{}, Conv2DBwdFilter{},
	MaxPoolFwd{}, MaxPoolBwd{}, ReluFwd{}, ReluBwd{},
	DropoutFwd{}, DropoutBwd{}, Gemm{}, BiasAdd{}, BiasGrad{},
	SoftmaxXent{}, Adam{}, Fill{}, Axpy{}, Scale{}, ResizeBilinear{},
	CountNonfinite{}, WinogradInput{}, WinogradFilter{}, WinogradOutput{},
	WinogradDy{}, WinogradDw{},
}

// Kernels returns the closed kernel list in a stable order.
func Kernels() []Kernel {
	out := make([]Kernel, len(kernelTable))
	for i, p := range kernelTable {
		out[i] = p.Kernel()
	}
	return out
}

// Params is implemented by exactly one struct per kernel. Every params struct
// is flat and holds only uint32 and float32 fields, so its memory layout is
// the same in Go, in OpenCL C (passed by value) and in a GLSL std430 push
// constant block (see shaders/opencl/params.h, shaders/vulkan/params.glsl,
// both generated from these structs). Its methods are the kernel's facts,
// from which the backends derive barriers, aliasing rules and splitting,
// bench its work figures and backendtest the buffers it poisons and compares.
type Params interface {
	// Kernel names the kernel these params belong to.
	Kernel() Kernel
	// BufferSizes is the minimum number of float32 elements of each buffer
	// argument, in dispatch order.
	BufferSizes() []int
	// Buffers is the role of each buffer argument, in dispatch order (as
	// many as BufferSizes).
	Buffers() []Buf
	// Work is the arithmetic and minimum memory traffic of the dispatch.
	Work() Work
	// Shape describes the dispatch's size in a few words, e.g.
	// "N8 C96 26x26 -> K256 27x27 k5x5 s1 p2" or "n=4096".
	Shape() string
	// Validate reports params that describe no valid computation.
	Validate() error
}

// ParamsFor returns a zero params struct of kernel k (for reflection by the
// header generator and tests), or nil for an unknown name.
func ParamsFor(k Kernel) Params {
	for _, p := range kernelTable {
		if p.Kernel() == k {
			return p
		}
	}
	return nil
}

// ParamsAs returns p as the params struct T, also when p is a *T, so that a
// backend's launcher keyed by p.Kernel() gets its struct by value.
func ParamsAs[T Params](p Params) (T, error) {
	if v, ok := p.(T); ok {
		return v, nil
	}
	if v, ok := any(p).(*T); ok && v != nil {
		return *v, nil
	}
	var zero T
	return zero, fmt.Errorf("%s: params of type %T, want %T", zero.Kernel(), p, zero)
}
