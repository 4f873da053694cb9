// resize_bilinear with its read-only operands as uniform texel buffers of
// 32-bit words (TEXEL_READS, the form the host runs on CPU devices); the
// kernel is resize_bilinear.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#define TEXEL_READS 1
#include "resize_bilinear.glsl"
