// conv2d_bwd_filter_reduce (second pass of conv2d_bwd_filter with split-K):
// out[k][q] = sum over z < splits of partial[(z*K + k)*(C*R*S+1) + q], the
// last column q = C*R*S going to db[k], the others to dw[k][q]. Buffers:
// partial (internal), dw[K*C*R*S], db[K].
#version 450
#extension GL_GOOGLE_include_directive : require
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { Conv2DBwdFilterParams p; uint splits; };
layout(std430, set = 0, binding = 0) readonly restrict buffer PART { float partial[]; };
layout(std430, set = 0, binding = 1) writeonly restrict buffer DW { float dw[]; };
layout(std430, set = 0, binding = 2) writeonly restrict buffer DB { float db[]; };

void main() {
    uint crs = p.C * p.R * p.S;
    uint cols = crs + 1u;
    uint total = p.K * cols;
    for (uint e = gridIndex(); e < total; e += gridStride()) {
        float s = 0.0;
        for (uint z = 0u; z < splits; z++) {
            s += partial[z * total + e];
        }
        uint k = e / cols;
        uint q = e % cols;
        if (q == crs) {
            db[k] = s;
        } else {
            dw[k * crs + q] = s;
        }
    }
}
