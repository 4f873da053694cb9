// maxpool_fwd: y = max over each window (padded positions are -inf and never
// chosen), idx = h*W+w of the FIRST maximum in row-major window order, as an
// exact float. Buffers: x[N*C*H*W], y[N*C*OH*OW], idx[N*C*OH*OW].
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { MaxPoolFwdParams p; };
READ_BUFFER(0, X, x);
layout(std430, set = 0, binding = 1) writeonly restrict buffer Y { float y[]; };
layout(std430, set = 0, binding = 2) writeonly restrict buffer I { float idx[]; };

void main() {
    uint total = p.N * p.C * p.OH * p.OW;
    for (uint o = gridIndex(); o < total; o += gridStride()) {
        uint ow = o % p.OW;
        uint t = o / p.OW;
        uint oh = t % p.OH;
        uint nc = t / p.OH;
        uint base = nc * p.H * p.W;
        int h0 = int(oh * p.StrideH) - int(p.PadH);
        int w0 = int(ow * p.StrideW) - int(p.PadW);
        float best = uintBitsToFloat(0xFF800000u); // -inf
        int arg = -1;
        for (int r = 0; r < int(p.KH); r++) {
            int ih = h0 + r;
            if (ih < 0 || ih >= int(p.H)) {
                continue;
            }
            for (int s = 0; s < int(p.KW); s++) {
                int iw = w0 + s;
                if (iw < 0 || iw >= int(p.W)) {
                    continue;
                }
                int pos = ih * int(p.W) + iw;
                float v = LOAD(x, base + uint(pos));
                if (arg < 0 || v > best) {
                    best = v;
                    arg = pos;
                }
            }
        }
        y[o] = best;
        idx[o] = float(arg);
    }
}
