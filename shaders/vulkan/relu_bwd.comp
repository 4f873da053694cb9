// relu_bwd: dx = dy where y > 0, else 0. Buffers: y[N], dy[N], dx[N]
// (dx may be dy).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { ReluBwdParams p; };
layout(std430, set = 0, binding = 0) readonly buffer Yb { float y[]; };
layout(std430, set = 0, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, set = 0, binding = 2) writeonly buffer DX { float dx[]; };

void main() {
    for (uint i = gridIndex(); i < p.N; i += gridStride()) {
        dx[i] = y[i] > 0.0 ? dy[i] : 0.0;
    }
}
