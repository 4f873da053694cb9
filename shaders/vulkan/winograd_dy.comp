// winograd_dy with its read-only operands as storage buffers; the kernel is
// winograd_dy.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "winograd_dy.glsl"
