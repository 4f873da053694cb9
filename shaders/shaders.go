// Package shaders embeds the kernel sources: OpenCL C in opencl/*.cl (with
// shared includes opencl/*.h) and Vulkan SPIR-V compiled from vulkan/*.comp
// by go generate. Building never needs a shader compiler.
package shaders

//go:generate go run ./internal/genparams
