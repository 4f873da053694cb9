// maxpool_bwd's scatter form, one class of output positions: for every
// output o = (n, c, oh, ow) with oh = PH + MH*i and ow = PW + MW*j whose
// idx[o] is a position of its own window, dx[n][c][idx[o]] += dy[o]. MH =
// ceil(KH/StrideH) and MW = ceil(KW/StrideW), so the windows of one class
// never overlap and no two invocations add to the same element; the host
// zeroes dx, then runs the MH*MW classes one after another. dy and idx are
// uniform texel buffers (TEXEL_READS): the host runs this form on CPU
// devices, where an output-side scatter loads a quarter of what the gather
// form (maxpool_bwd.comp) does. Buffers: dy[N*C*OH*OW], idx[N*C*OH*OW],
// dx[N*C*H*W] (read and written).
#version 450
#extension GL_GOOGLE_include_directive : require
#define TEXEL_READS 1
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { MaxPoolBwdParams p; uint PH; uint PW; uint MH; uint MW; };
READ_BUFFER(0, DY, dy);
READ_BUFFER(1, I, idx);
layout(std430, set = 0, binding = 2) restrict buffer DX { float dx[]; };

void main() {
    uint rows = ceilDiv(p.OH - PH, MH), cols = ceilDiv(p.OW - PW, MW);
    uint total = p.N * p.C * rows * cols;
    for (uint o = gridIndex(); o < total; o += gridStride()) {
        uint j = o % cols;
        uint t = o / cols;
        uint i = t % rows;
        uint nc = t / rows;
        uint oh = PH + MH * i, ow = PW + MW * j;
        uint out_ = (nc * p.OH + oh) * p.OW + ow;
        float a = LOAD(idx, out_);
        bool inPlane = a >= 0.0 && a < float(p.H * p.W);
        int pos = inPlane ? int(a) : 0;
        int h = pos / int(p.W), w = pos % int(p.W);
        int h0 = int(oh * p.StrideH) - int(p.PadH), w0 = int(ow * p.StrideW) - int(p.PadW);
        if (inPlane && float(pos) == a && h >= h0 && h < h0 + int(p.KH) && w >= w0 && w < w0 + int(p.KW)) {
            uint d = nc * p.H * p.W + uint(pos);
            dx[d] += LOAD(dy, out_);
        }
    }
}
