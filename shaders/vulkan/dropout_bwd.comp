// dropout_bwd with its read-only operands as storage buffers; the kernel is
// dropout_bwd.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "dropout_bwd.glsl"
