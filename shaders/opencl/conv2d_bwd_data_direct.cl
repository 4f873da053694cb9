// conv2d_bwd_data_direct computes the dx of conv2d_bwd_data (see
// conv2d_bwd_data.cl) by summing the taps of each dx element, one work-item
// each (1-D over N*C*H*W); the launcher uses it when C is too small to fill
// a tile (AlexNet's conv1: C = 1). With p.MaskRelu dy is read masked as
// relu_bwd by the ReLU output ym (ym > 0 ? dy : 0); without it ym is dy.
#include "params.h"

// First tap t of a dimension (input position x, padding pad, stride st,
// output size O, kernel size T) that reaches an output: the smallest t >= 0
// with (x+pad-t) % st == 0 and (x+pad-t)/st <= O-1. Taps t, t+st, ... up
// to min(T-1, x+pad) all reach outputs.
inline int convbd_first_tap(int xp, int st, int O) {
    const int lo = max(0, xp - (O - 1) * st);
    return lo + (xp - lo) % st;
}

__kernel void conv2d_bwd_data_direct(const Conv2DBwdDataParams p, __global const float* restrict dy,
                                     __global const float* restrict w, __global float* restrict dx,
                                     __global const float* restrict ym) {
    const uint i = (uint)get_global_id(0);
    if (i >= p.N * p.C * p.H * p.W) return;
    const uint x = i % p.W, y = (i / p.W) % p.H, c = (i / (p.W * p.H)) % p.C, n = i / (p.W * p.H * p.C);
    const int hp = (int)(y + p.PadH), wp = (int)(x + p.PadW), sh = (int)p.StrideH, sw = (int)p.StrideW;
    const int r0 = convbd_first_tap(hp, sh, (int)p.OH), r1 = min((int)p.R - 1, hp);
    const int s0 = convbd_first_tap(wp, sw, (int)p.OW), s1 = min((int)p.S - 1, wp);
    const uint OHW = p.OH * p.OW, RS = p.R * p.S;
    const int ow0 = (wp - s0) / sw, oh0 = (hp - r0) / sh;
    float acc = 0.0f;
    for (uint k = 0; k < p.K; k++) {
        __global const float* dyk = dy + (n * p.K + k) * OHW;
        __global const float* yk = ym + (n * p.K + k) * OHW;
        __global const float* wk = w + (k * p.C + c) * RS;
        for (int r = r0, oh = oh0; r <= r1; r += sh, oh--) {
            __global const float* dyr = dyk + oh * (int)p.OW;
            __global const float* yr = yk + oh * (int)p.OW;
            __global const float* wr = wk + r * (int)p.S;
            for (int s = s0, ow = ow0; s <= s1; s += sw, ow--) {
                const float g = (!p.MaskRelu || yr[ow] > 0.0f) ? dyr[ow] : 0.0f;
                acc = fma(g, wr[s], acc);
            }
        }
    }
    dx[i] = acc;
}
