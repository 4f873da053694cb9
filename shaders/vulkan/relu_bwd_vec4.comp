// relu_bwd_vec4: relu_bwd four elements at a time, through vec4 loads and
// stores (see adam_vec4.comp), on CPU devices when every binding starts at
// a multiple of four elements. Elements past the last whole vec4 go to the
// first invocations, one each. Buffers: y[N], dy[N], dx[N] (dx may be dy).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { ReluBwdParams p; };
layout(std430, set = 0, binding = 0) readonly buffer Yb { vec4 y[]; };
layout(std430, set = 0, binding = 1) readonly buffer DY { vec4 dy[]; };
layout(std430, set = 0, binding = 2) writeonly buffer DX { vec4 dx[]; };

void main() {
    uint n4 = p.N / 4u;
    for (uint i = gridIndex(); i < n4; i += gridStride()) {
        dx[i] = mix(vec4(0.0), dy[i], greaterThan(y[i], vec4(0.0)));
    }
    uint c = gridIndex();
    if (c < p.N - 4u * n4) {
        dx[n4][c] = y[n4][c] > 0.0 ? dy[n4][c] : 0.0;
    }
}
