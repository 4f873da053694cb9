package shaders

import "embed"

// OpenCL holds the OpenCL C 1.2 kernel sources: opencl/<kernel>.cl, one file
// per kernel whose kernel function has the kernel's name, and the headers
// they include (opencl/params.h, generated; opencl/common.h). The OpenCL
// backend concatenates every .cl file into one program. Read-only, shared.
//
//go:embed opencl/*.cl opencl/*.h
var OpenCL embed.FS
