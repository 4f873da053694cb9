// Package crosscheck holds tests only: they run the same kernels on the
// reference backend, PoCL (OpenCL) and lavapipe (Vulkan) in one process and
// require bit-identical results where data-parallel replicas on different
// backends must stay bit-identical (the Adam update every replica applies to
// the same summed gradient).
package crosscheck
