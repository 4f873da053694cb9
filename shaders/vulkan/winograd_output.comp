// winograd_output with its read-only operands as storage buffers; the kernel is
// winograd_output.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "winograd_output.glsl"
