package ref

// KernelTable exposes the reference's dispatch table to the external tests.
var KernelTable = kernels
