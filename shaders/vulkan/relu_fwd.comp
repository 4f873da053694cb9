// relu_fwd with its read-only operands as storage buffers; the kernel is
// relu_fwd.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "relu_fwd.glsl"
