// winograd_dw as F(3x3,4x4) (WG_F4: the module the host runs for F4 = 1, so
// that the other algorithms' module keeps its code), with its read-only
// operands as uniform texel buffers (TEXEL_READS, the form the host runs on
// CPU devices); the kernel is winograd_dw.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#define TEXEL_READS 1
#define WG_F4 1
#include "winograd_dw.glsl"
