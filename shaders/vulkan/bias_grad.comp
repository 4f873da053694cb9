// bias_grad: db[c] = sum over r of dy[r][c]. Buffers: dy[Rows*Cols],
// db[Cols], partial[splits*Cols] (internal), y[Rows*Cols] (dy when
// MaskRelu == 0, unread). The rows are split into gl_NumWorkGroups.y chunks;
// with one chunk the sums go to db directly, else chunk z writes
// partial[z*Cols + c] and bias_grad_reduce adds them up. With MaskRelu each
// term is first masked as relu_bwd (y > 0 ? dy : 0) and written back over
// dy (each element by the one invocation that sums it).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { BiasGradParams p; };
layout(std430, set = 0, binding = 0) buffer DY { float dy[]; };
layout(std430, set = 0, binding = 1) writeonly buffer DB { float db[]; };
layout(std430, set = 0, binding = 2) writeonly buffer PART { float partial[]; };
layout(std430, set = 0, binding = 3) readonly buffer Yb { float y[]; };

void main() {
    uint splits = gl_NumWorkGroups.y;
    uint z = gl_WorkGroupID.y;
    uint chunk = ceilDiv(p.Rows, splits);
    uint r0 = min(p.Rows, z * chunk);
    uint r1 = min(p.Rows, r0 + chunk);
    for (uint c = gridIndex(); c < p.Cols; c += gridStride()) {
        float s = 0.0;
        for (uint r = r0; r < r1; r++) {
            uint i = r * p.Cols + c;
            float v = dy[i];
            if (p.MaskRelu != 0u) {
                v = y[i] > 0.0 ? v : 0.0;
                dy[i] = v;
            }
            s += v;
        }
        if (splits == 1u) {
            db[c] = s;
        } else {
            partial[z * p.Cols + c] = s;
        }
    }
}
