// peak_copy: the copy-bandwidth ceiling of crossgrad bench, outside the
// closed kernel list (backend/vulkan/peak.go): dst[i] = src[i] over N4 vec4
// elements.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { uint N4; } p;
layout(std430, set = 0, binding = 0) readonly restrict buffer Src { vec4 src[]; };
layout(std430, set = 0, binding = 1) writeonly restrict buffer Dst { vec4 dst[]; };

void main() {
    for (uint i = gridIndex(); i < p.N4; i += gridStride()) {
        dst[i] = src[i];
    }
}
