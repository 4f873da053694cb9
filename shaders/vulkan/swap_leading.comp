// swap_leading with its read-only operands as storage buffers; the kernel
// is swap_leading.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "swap_leading.glsl"
