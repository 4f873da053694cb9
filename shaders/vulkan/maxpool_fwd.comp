// maxpool_fwd with its read-only operands as storage buffers; the kernel is
// maxpool_fwd.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "maxpool_fwd.glsl"
