#include "params.h"

// Sums the nsplit partial results of conv2d_bwd_filter in split order:
// one work-item per element of [K][CRS+1]; column CRS goes to db.
__kernel void conv2d_bwd_filter_reduce(const Conv2DBwdFilterParams p, __global const float* restrict part,
                                       __global float* restrict dw, __global float* restrict db,
                                       const uint nsplit) {
    const uint cols = p.C * p.R * p.S + 1u, n = p.K * cols;
    const uint i = (uint)get_global_id(0);
    if (i >= n) return;
    float s = 0.0f;
    for (uint z = 0; z < nsplit; z++) s += part[z * n + i];
    const uint k = i / cols, col = i - k * cols;
    if (col + 1u < cols) dw[k * (cols - 1u) + col] = s;
    else db[k] = s;
}
