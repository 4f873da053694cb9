// bias_grad: db[c] = sum over r of dy[r][c]. Buffers: dy[Rows*Cols],
// db[Cols], partial[splits*Cols] (internal). The rows are split into
// gl_NumWorkGroups.y chunks; with one chunk the sums go to db directly, else
// chunk z writes partial[z*Cols + c] and bias_grad_reduce adds them up.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { BiasGradParams p; };
layout(std430, set = 0, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, set = 0, binding = 1) writeonly buffer DB { float db[]; };
layout(std430, set = 0, binding = 2) writeonly buffer PART { float partial[]; };

void main() {
    uint splits = gl_NumWorkGroups.y;
    uint z = gl_WorkGroupID.y;
    uint chunk = ceilDiv(p.Rows, splits);
    uint r0 = min(p.Rows, z * chunk);
    uint r1 = min(p.Rows, r0 + chunk);
    for (uint c = gridIndex(); c < p.Cols; c += gridStride()) {
        float s = 0.0;
        for (uint r = r0; r < r1; r++) {
            s += dy[r * p.Cols + c];
        }
        if (splits == 1u) {
            db[c] = s;
        } else {
            partial[z * p.Cols + c] = s;
        }
    }
}
