// conv2d_filter_flip (first pass of conv2d_bwd_data's forward form, fwd=1):
// wf[c][k][r][s] = w[k][c][R-1-r][S-1-s], the filter of the forward
// convolution whose output is the input gradient, then C zeros at
// wf[biasOff..], its bias. Buffers: w[K*C*R*S], wf (internal,
// biasOff + C elements).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { Conv2DBwdDataParams p; uint biasOff; };
layout(std430, set = 0, binding = 0) readonly restrict buffer W { float w[]; };
layout(std430, set = 0, binding = 1) writeonly restrict buffer WF { float wf[]; };

void main() {
    uint rs = p.R * p.S;
    uint n = p.K * p.C * rs;
    for (uint o = gridIndex(); o < n + p.C; o += gridStride()) {
        if (o >= n) {
            wf[biasOff + o - n] = 0.0;
            continue;
        }
        uint t = o % rs, ck = o / rs;
        uint k = ck % p.K, c = ck / p.K;
        wf[o] = w[(k * p.C + c) * rs + rs - 1u - t];
    }
}
