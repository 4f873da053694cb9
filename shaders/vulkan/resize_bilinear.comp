// resize_bilinear with its read-only operands as storage buffers; the
// kernel is resize_bilinear.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "resize_bilinear.glsl"
