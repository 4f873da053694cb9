package shaders

// Compiles vulkan/*.comp into vulkan/*.spv with glslc and records the source
// hashes in vulkan/spirv.sum (runs after genparams: files are processed in
// name order).
//go:generate go run ./internal/genspirv
