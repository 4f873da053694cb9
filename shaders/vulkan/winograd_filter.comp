// winograd_filter with its read-only operands as storage buffers; the kernel is
// winograd_filter.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "winograd_filter.glsl"
