// bias_add with its read-only operands as storage buffers; the kernel is
// bias_add.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "bias_add.glsl"
