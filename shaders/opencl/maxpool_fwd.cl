// y = max over each window of x[n][c], idx = h*W+w of the first maximum in
// row-major window order; padded positions are -inf and never chosen.
// 3-D launch: (ow, oh, n*c), one work-item per output element; the window is
// clipped to the plane first (Validate guarantees an inside position), so
// the loops carry no per-tap bounds tests.
#include "params.h"
#include "common.h"

__kernel void maxpool_fwd(MaxPoolFwdParams p, __global const float* x, __global float* y, __global float* idx) {
    uint ow = (uint)get_global_id(0), oh = (uint)get_global_id(1), nc = (uint)get_global_id(2);
    if (ow >= p.OW || oh >= p.OH) return;
    int W = (int)p.W;
    int h0 = (int)(oh * p.StrideH) - (int)p.PadH;
    int w0 = (int)(ow * p.StrideW) - (int)p.PadW;
    int r0 = max(h0, 0), r1 = min(h0 + (int)p.KH, (int)p.H);
    int s0 = max(w0, 0), s1 = min(w0 + (int)p.KW, W);
    __global const float* plane = x + (size_t)nc * p.H * p.W;
    int arg = r0 * W + s0;
    float best = plane[arg];
    for (int ih = r0; ih < r1; ih++) {
        for (int iw = s0; iw < s1; iw++) {
            float v = plane[ih * W + iw];
            if (v > best) {
                best = v;
                arg = ih * W + iw;
            }
        }
    }
    size_t o = ((size_t)nc * p.OH + oh) * p.OW + ow;
    y[o] = best;
    idx[o] = (float)arg;
}
