// maxpool_fwd with its read-only operands as uniform texel buffers (TEXEL_READS,
// the form the host runs on CPU devices); the kernel is maxpool_fwd.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#define TEXEL_READS 1
#include "maxpool_fwd.glsl"
