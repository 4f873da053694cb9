package shaders

import "embed"

// OpenCL holds the OpenCL C 1.2 kernel sources: opencl/<kernel>.cl, one file
// per kernel whose kernel function has the kernel's name, helper kernels
// opencl/<kernel>_<suffix>.cl, and the headers they include
// (opencl/params.h, generated; opencl/common.h; opencl/gemm_tile.h, the
// tile engine; opencl/winograd.h, the Winograd transforms' lanes). The
// OpenCL backend concatenates every .cl file into one program except the
// tiled kernels (those including gemm_tile.h), which it builds once per
// tiling with the tile sizes as -D options. Read-only, shared.
//
//go:embed opencl/*.cl opencl/*.h
var OpenCL embed.FS
