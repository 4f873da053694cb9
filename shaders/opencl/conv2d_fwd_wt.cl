#include "params.h"

// wt[crs][k] = w[k][crs]: the weights transposed for the CPU kernels, whose
// full weight slabs are then plain vector copies. One work-item per element.
__kernel void conv2d_fwd_wt(const Conv2DFwdParams p, __global const float* restrict w,
                            __global float* restrict wt) {
    const uint CRS = p.C * p.R * p.S;
    const uint i = (uint)get_global_id(0);
    if (i >= p.K * CRS) return;
    const uint c = i / p.K;
    wt[i] = w[(i - c * p.K) * CRS + c];
}
