// winograd_dw with its read-only operands as storage buffers; the kernel is
// winograd_dw.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "winograd_dw.glsl"
