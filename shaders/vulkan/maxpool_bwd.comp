// maxpool_bwd with its read-only operands as storage buffers; the kernel is
// maxpool_bwd.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "maxpool_bwd.glsl"
