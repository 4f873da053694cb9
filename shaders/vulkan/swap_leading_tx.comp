// swap_leading with its read-only operands as uniform texel buffers (the
// form the host runs on CPU devices); the kernel is swap_leading.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#define TEXEL_READS 1
#include "swap_leading.glsl"
