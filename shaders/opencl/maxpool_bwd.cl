// dx[n][c][i] = sum of dy over the windows whose idx is i. Gather form, no
// atomics: 3-D launch (w, h, n*c), one work-item per input element walks
// the windows that contain it, in output order.
#include "params.h"
#include "common.h"

__kernel void maxpool_bwd(MaxPoolBwdParams p, __global const float* dy, __global const float* idx, __global float* dx) {
    uint w = (uint)get_global_id(0), h = (uint)get_global_id(1), nc = (uint)get_global_id(2);
    if (w >= p.W || h >= p.H) return;
    int pos = (int)(h * p.W + w);
    // Windows oh with oh*StrideH-PadH <= h <= oh*StrideH-PadH+KH-1.
    int hp = (int)(h + p.PadH), wp = (int)(w + p.PadW);
    int sh = (int)p.StrideH, sw = (int)p.StrideW;
    int oh0 = hp >= (int)p.KH ? (hp - (int)p.KH) / sh + 1 : 0;
    int oh1 = min(hp / sh, (int)p.OH - 1);
    int ow0 = wp >= (int)p.KW ? (wp - (int)p.KW) / sw + 1 : 0;
    int ow1 = min(wp / sw, (int)p.OW - 1);
    size_t base = (size_t)nc * p.OH * p.OW;
    float plane = (float)(p.H * p.W);
    float sum = 0.0f;
    for (int oh = oh0; oh <= oh1; oh++) {
        for (int ow = ow0; ow <= ow1; ow++) {
            size_t o = base + (size_t)oh * p.OW + ow;
            float f = idx[o];
            // An idx that is not an exact position in the plane matches none.
            if (f >= 0.0f && f < plane && (int)f == pos && (float)(int)f == f) {
                sum += dy[o];
            }
        }
    }
    dx[(size_t)nc * p.H * p.W + pos] = sum;
}
