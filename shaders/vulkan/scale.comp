// scale: x *= Alpha. Buffers: x[N].
#version 450
#extension GL_GOOGLE_include_directive : require
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { ScaleParams p; };
layout(std430, set = 0, binding = 0) restrict buffer X { float x[]; };

void main() {
    for (uint i = gridIndex(); i < p.N; i += gridStride()) {
        x[i] *= p.Alpha;
    }
}
