package backend

// ReluMasker is implemented by the params of the kernels that can read a
// gradient masked by the backward of the ReLU after them (their MaskRelu
// field, the ReLU's output y as their last buffer): the plan's fusion of
// relu_bwd into the next backward products.
type ReluMasker interface {
	Params
	// ReluMasked reports whether MaskRelu is set.
	ReluMasked() bool
	// WithMaskRelu is the params with MaskRelu 1.
	WithMaskRelu() Params
}

// ReluMasked implements ReluMasker.
func (p BiasGrad) ReluMasked() bool { return p.MaskRelu != 0 }

// WithMaskRelu implements ReluMasker.
func (p BiasGrad) WithMaskRelu() Params { p.MaskRelu = 1; return p }

// ReluMasked implements ReluMasker.
func (p Conv2DBwdData) ReluMasked() bool { return p.MaskRelu != 0 }

// WithMaskRelu implements ReluMasker.
func (p Conv2DBwdData) WithMaskRelu() Params { p.MaskRelu = 1; return p }

// ReluMasked implements ReluMasker.
func (p Conv2DBwdFilter) ReluMasked() bool { return p.MaskRelu != 0 }

// WithMaskRelu implements ReluMasker.
func (p Conv2DBwdFilter) WithMaskRelu() Params { p.MaskRelu = 1; return p }

// ReluMasked implements ReluMasker.
func (p WinogradInput) ReluMasked() bool { return p.MaskRelu != 0 }

// WithMaskRelu implements ReluMasker.
func (p WinogradInput) WithMaskRelu() Params { p.MaskRelu = 1; return p }

// ReluMasked implements ReluMasker.
func (p WinogradDy) ReluMasked() bool { return p.MaskRelu != 0 }

// WithMaskRelu implements ReluMasker.
func (p WinogradDy) WithMaskRelu() Params { p.MaskRelu = 1; return p }
