// winograd_filter: U[xi][k][q*C+c] = (G g G^T)[xi] of kernel block q =
// a*BS+b (BS = ceil(S/3)), g[r][s] = w[k][c][3a+r][3b+s]; with BwdData
// U[xi][c][q*K+k] of the rotated g[r][s] = w[k][c][R-1-3a-r][S-1-3b-s];
// zero past the kernel (see backend.WinogradFilter, the matrices in
// backend/ref/winograd.go). 2-D launch (q*C+c, k), one work-item per block
// of a filter.
#include "params.h"
#include "common.h"

__kernel void winograd_filter(const WinogradFilterParams p, __global const float* restrict w, __global float* restrict U) {
    const uint row = GID0, k = (uint)get_global_id(1);
    const uint bs = (p.S + 2u) / 3u, blocks = (p.R + 2u) / 3u * bs;
    if (row >= blocks * p.C || k >= p.K) return;
    const uint q = row / p.C, c = row % p.C;
    const int R = (int)p.R, S = (int)p.S, r0 = 3 * (int)(q / bs), s0 = 3 * (int)(q % bs);
    __global const float* gp = w + ((size_t)k * p.C + c) * p.R * p.S;
    float g[3][3];
#pragma unroll
    for (int r = 0; r < 3; r++) {
#pragma unroll
        for (int s = 0; s < 3; s++) {
            const int kr = r0 + r, ks = s0 + s;
            g[r][s] = (kr < R && ks < S) ? (p.BwdData ? gp[(R - 1 - kr) * S + (S - 1 - ks)] : gp[kr * S + ks]) : 0.0f;
        }
    }
    float e[4][3]; // G g
#pragma unroll
    for (int s = 0; s < 3; s++) {
        e[0][s] = g[0][s];
        e[1][s] = 0.5f * (g[0][s] + g[1][s] + g[2][s]);
        e[2][s] = 0.5f * (g[0][s] - g[1][s] + g[2][s]);
        e[3][s] = g[2][s];
    }
    const size_t plane = (size_t)blocks * p.K * p.C;
    __global float* up = U + (p.BwdData ? ((size_t)c * blocks + q) * p.K + k : (size_t)k * blocks * p.C + row);
#pragma unroll
    for (int i = 0; i < 4; i++) { // (G g) G^T
        up[(4 * i) * plane] = e[i][0];
        up[(4 * i + 1) * plane] = 0.5f * (e[i][0] + e[i][1] + e[i][2]);
        up[(4 * i + 2) * plane] = 0.5f * (e[i][0] - e[i][1] + e[i][2]);
        up[(4 * i + 3) * plane] = e[i][2];
    }
}
