// dropout_fwd with its read-only operands as storage buffers; the kernel is
// dropout_fwd.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "dropout_fwd.glsl"
