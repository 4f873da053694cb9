// winograd_filter: U[xi][k][c] = (G g G^T)[xi] of g = w[k][c]; with BwdData
// U[xi][c][k] of the rotated g[r][s] = w[k][c][2-r][2-s] (see
// backend.WinogradFilter, the matrices in backend/ref/winograd.go). 2-D
// launch (c, k), one work-item per filter.
#include "params.h"
#include "common.h"

__kernel void winograd_filter(const WinogradFilterParams p, __global const float* restrict w, __global float* restrict U) {
    const uint c = GID0, k = (uint)get_global_id(1);
    if (c >= p.C || k >= p.K) return;
    __global const float* gp = w + ((size_t)k * p.C + c) * 9u;
    float g[3][3];
#pragma unroll
    for (int r = 0; r < 3; r++) {
#pragma unroll
        for (int s = 0; s < 3; s++) g[r][s] = p.BwdData ? gp[(2 - r) * 3 + (2 - s)] : gp[r * 3 + s];
    }
    float e[4][3]; // G g
#pragma unroll
    for (int s = 0; s < 3; s++) {
        e[0][s] = g[0][s];
        e[1][s] = 0.5f * (g[0][s] + g[1][s] + g[2][s]);
        e[2][s] = 0.5f * (g[0][s] - g[1][s] + g[2][s]);
        e[3][s] = g[2][s];
    }
    const size_t plane = (size_t)p.K * p.C;
    __global float* up = U + (p.BwdData ? (size_t)c * p.K + k : (size_t)k * p.C + c);
#pragma unroll
    for (int i = 0; i < 4; i++) { // (G g) G^T
        up[(4 * i) * plane] = e[i][0];
        up[(4 * i + 1) * plane] = 0.5f * (e[i][0] + e[i][1] + e[i][2]);
        up[(4 * i + 2) * plane] = 0.5f * (e[i][0] - e[i][1] + e[i][2]);
        up[(4 * i + 3) * plane] = e[i][2];
    }
}
