// maxpool_bwd (gather form): dx[n][c][i] = sum of dy over the windows that
// contain position i and whose idx is i, in (oh, ow) order. Buffers:
// dy[N*C*OH*OW], idx[N*C*OH*OW], dx[N*C*H*W] (overwritten).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { MaxPoolBwdParams p; };
layout(std430, set = 0, binding = 0) readonly restrict buffer DY { float dy[]; };
layout(std430, set = 0, binding = 1) readonly restrict buffer I { float idx[]; };
layout(std430, set = 0, binding = 2) writeonly restrict buffer DX { float dx[]; };

// firstWindow is the first output position whose window (o*stride-pad ..
// +k-1) contains position i: ceil((i+pad-k+1)/stride), at least 0.
int firstWindow(int i, uint pad, uint k, uint stride) {
    int a = i + int(pad) - int(k) + 1;
    return a <= 0 ? 0 : (a + int(stride) - 1) / int(stride);
}

void main() {
    uint total = p.N * p.C * p.H * p.W;
    for (uint i = gridIndex(); i < total; i += gridStride()) {
        uint w = i % p.W;
        uint t = i / p.W;
        uint h = t % p.H;
        uint nc = t / p.H;
        int ohLo = firstWindow(int(h), p.PadH, p.KH, p.StrideH);
        int ohHi = min(int(p.OH) - 1, (int(h) + int(p.PadH)) / int(p.StrideH));
        int owLo = firstWindow(int(w), p.PadW, p.KW, p.StrideW);
        int owHi = min(int(p.OW) - 1, (int(w) + int(p.PadW)) / int(p.StrideW));
        float target = float(h * p.W + w);
        float sum = 0.0;
        for (int oh = ohLo; oh <= ohHi; oh++) {
            uint row = (nc * p.OH + uint(oh)) * p.OW;
            for (int ow = owLo; ow <= owHi; ow++) {
                uint o = row + uint(ow);
                if (idx[o] == target) {
                    sum += dy[o];
                }
            }
        }
        dx[i] = sum;
    }
}
