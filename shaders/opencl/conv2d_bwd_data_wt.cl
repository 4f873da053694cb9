#include "params.h"

// wt[c][k][r][s] = w[k][c][r][s] (the transposed weights of the tiled
// kernels, stride 1): one work-item per element, 1-D over C*K*R*S.
__kernel void conv2d_bwd_data_wt(const Conv2DBwdDataParams p, __global const float* restrict w,
                                 __global float* restrict wt) {
    const uint RS = p.R * p.S, KRS = p.K * RS;
    const uint i = (uint)get_global_id(0);
    if (i >= p.C * KRS) return;
    const uint c = i / KRS, t = i - c * KRS, k = t / RS;
    wt[i] = w[(k * p.C + c) * RS + (t - k * RS)];
}
