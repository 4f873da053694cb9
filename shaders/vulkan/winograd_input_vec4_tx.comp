// winograd_input four tiles at a time, with vec4 stores of V and its
// read-only operands as uniform texel buffers (WG_VEC4 and TEXEL_READS, the
// form the host runs on CPU devices for P % 4 == 0); the kernel is
// winograd_input.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#define TEXEL_READS 1
#define WG_VEC4 1
#include "winograd_input.glsl"
