package backend

// Kernel names one entry of the closed kernel list. The same name is used for
// the OpenCL file (shaders/opencl/NAME.cl), the GLSL file
// (shaders/vulkan/NAME.comp), the reference implementation and the
// conformance case.
type Kernel string

// The closed kernel list.
const (
	KConv2DFwd       Kernel = "conv2d_fwd"
	KConv2DBwdData   Kernel = "conv2d_bwd_data"
	KConv2DBwdFilter Kernel = "conv2d_bwd_filter"
	KMaxPoolFwd      Kernel = "maxpool_fwd"
	KMaxPoolBwd      Kernel = "maxpool_bwd"
	KReluFwd         Kernel = "relu_fwd"
	KReluBwd         Kernel = "relu_bwd"
	KDropoutFwd      Kernel = "dropout_fwd"
	KDropoutBwd      Kernel = "dropout_bwd"
	KGemm            Kernel = "gemm"
	KBiasAdd         Kernel = "bias_add"
	KBiasGrad        Kernel = "bias_grad"
	KSoftmaxXent     Kernel = "softmax_xent"
	KAdam            Kernel = "adam"
	KFill            Kernel = "fill"
	KAxpy            Kernel = "axpy"
	KScale           Kernel = "scale"
	KResizeBilinear  Kernel = "resize_bilinear"
	KCountNonfinite  Kernel = "count_nonfinite"
)

// Kernels returns the closed kernel list in a stable order.
func Kernels() []Kernel {
	return []Kernel{
		KConv2DFwd, KConv2DBwdData, KConv2DBwdFilter,
		KMaxPoolFwd, KMaxPoolBwd, KReluFwd, KReluBwd,
		KDropoutFwd, KDropoutBwd, KGemm, KBiasAdd, KBiasGrad,
		KSoftmaxXent, KAdam, KFill, KAxpy, KScale, KResizeBilinear,
		KCountNonfinite,
	}
}

// Params is implemented by exactly one struct per kernel. Every params struct
// is flat and holds only uint32 and float32 fields, so its memory layout is
// the same in Go, in OpenCL C (passed by value) and in a GLSL std430 push
// constant block (see shaders/opencl/params.h, shaders/vulkan/params.glsl,
// both generated from these structs).
type Params interface {
	// Kernel names the kernel these params belong to.
	Kernel() Kernel
	// BufferSizes is the minimum number of float32 elements of each buffer
	// argument, in dispatch order.
	BufferSizes() []int
	// Validate reports params that describe no valid computation.
	Validate() error
}

// ParamsFor returns a zero params struct of kernel k (for reflection by the
// header generator and tests), or nil for an unknown name.
func ParamsFor(k Kernel) Params {
	switch k {
	case KConv2DFwd:
		return Conv2DFwd{}
	case KConv2DBwdData:
		return Conv2DBwdData{}
	case KConv2DBwdFilter:
		return Conv2DBwdFilter{}
	case KMaxPoolFwd:
		return MaxPoolFwd{}
	case KMaxPoolBwd:
		return MaxPoolBwd{}
	case KReluFwd:
		return ReluFwd{}
	case KReluBwd:
		return ReluBwd{}
	case KDropoutFwd:
		return DropoutFwd{}
	case KDropoutBwd:
		return DropoutBwd{}
	case KGemm:
		return Gemm{}
	case KBiasAdd:
		return BiasAdd{}
	case KBiasGrad:
		return BiasGrad{}
	case KSoftmaxXent:
		return SoftmaxXent{}
	case KAdam:
		return Adam{}
	case KFill:
		return Fill{}
	case KAxpy:
		return Axpy{}
	case KScale:
		return Scale{}
	case KResizeBilinear:
		return ResizeBilinear{}
	case KCountNonfinite:
		return CountNonfinite{}
	}
	return nil
}
