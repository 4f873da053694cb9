// conv2d_bwd_filter_unswap (last pass of conv2d_bwd_filter's forward form,
// fwd=1): dw[k][c][r][s] = Y[c][k][r][s] for c < C, and db[k] =
// Y[C][k][PadH][PadW], the output of the forward convolution whose "images"
// are the C input channels and a plane of ones. Buffers: Y[(C+1)*K*R*S]
// (internal), dw[K*C*R*S], db[K].
#version 450
#extension GL_GOOGLE_include_directive : require
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { Conv2DBwdFilterParams p; };
READ_BUFFER(0, Yt, yt);
layout(std430, set = 0, binding = 1) writeonly restrict buffer DW { float dw[]; };
layout(std430, set = 0, binding = 2) writeonly restrict buffer DB { float db[]; };

void main() {
    uint rs = p.R * p.S;
    uint n = p.K * p.C * rs;
    for (uint o = gridIndex(); o < n + p.K; o += gridStride()) {
        if (o >= n) {
            uint k = o - n;
            db[k] = LOAD(yt, (p.C * p.K + k) * rs + p.PadH * p.S + p.PadW);
            continue;
        }
        uint t = o % rs, kc = o / rs;
        uint c = kc % p.C, k = kc / p.C;
        dw[o] = LOAD(yt, (c * p.K + k) * rs + t);
    }
}
