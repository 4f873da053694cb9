// winograd_filter: U[xi][k][q*C+c] = (G g G^T)[xi] of kernel block q =
// a*BS+b (BS = ceil(S/3)), g[r][s] = w[k][c][3a+r][3b+s]; with BwdData
// U[xi][c][q*K+k] of the rotated g[r][s] = w[k][c][R-1-3a-r][S-1-3b-s];
// zero past the kernel (see backend.WinogradFilter, the matrices in
// backend/ref/winograd.go). 2-D launch (q*C+c, k), one work-item per block
// of a filter. With p.K5 it is F(2x2,5x5)'s G (6x5) of the whole 5x5
// filter, with p.F4 F(4x4,3x3)'s G (6x3) of each 3x3 block as above
// (winograd_filter6), xi = 6*i+j.
#include "params.h"
#include "common.h"
#include "winograd.h"

// G g of a column of n (5 or 3) taps: wg_g5 or wg_g3.
CG_INLINE void wg_gn(const float* g, float* o, const int n) {
    if (n == 5) {
        wg_g5(g, o);
    } else {
        wg_g3(g, o);
    }
}

// F(2x2,5x5) (n 5, the whole 5x5 filter as one block) and F(4x4,3x3)
// (n 3, each 3x3 block q = a*BS+b): U[xi][k][q*C+c] (BwdData:
// U[xi][c][q*K+k]) = (G g G^T)[xi] of the n x n block g[r][s] =
// w[k][c][3a+r][3b+s] (BwdData: w[k][c][R-1-3a-r][S-1-3b-s]), zero past
// the kernel.
CG_INLINE void winograd_filter6(const WinogradFilterParams p, __global const float* restrict w, __global float* restrict U,
                                const uint row, const uint k, const int n) {
    const uint bs = wg_bs(p.S, p.K5), blocks = wg_blocks(p.R, p.S, p.K5);
    const uint q = row / p.C, c = row % p.C;
    const int R = (int)p.R, S = (int)p.S, r0 = 3 * (int)(q / bs), s0 = 3 * (int)(q % bs);
    __global const float* gp = w + ((size_t)k * p.C + c) * p.R * p.S;
    float e[6][5]; // G g, by columns
#pragma unroll
    for (int s = 0; s < n; s++) {
        float col[5], o[6];
#pragma unroll
        for (int r = 0; r < n; r++) {
            const int kr = r0 + r, ks = s0 + s;
            col[r] = (kr < R && ks < S) ? (p.BwdData ? gp[(R - 1 - kr) * S + (S - 1 - ks)] : gp[kr * S + ks]) : 0.0f;
        }
        wg_gn(col, o, n);
#pragma unroll
        for (int i = 0; i < 6; i++) e[i][s] = o[i];
    }
    const size_t plane = (size_t)blocks * p.K * p.C;
    __global float* up = U + (p.BwdData ? ((size_t)c * blocks + q) * p.K + k : (size_t)k * blocks * p.C + row);
#pragma unroll
    for (int i = 0; i < 6; i++) { // (G g) G^T
        float o[6];
        wg_gn(e[i], o, n);
#pragma unroll
        for (int j = 0; j < 6; j++) up[(6 * i + j) * plane] = o[j];
    }
}

__kernel void winograd_filter(const WinogradFilterParams p, __global const float* restrict w, __global float* restrict U) {
    const uint row = GID0, k = (uint)get_global_id(1);
    if (p.K5 || p.F4) {
        if (row >= wg_blocks(p.R, p.S, p.K5) * p.C || k >= p.K) return;
        if (p.F4) {
            winograd_filter6(p, w, U, row, k, 3);
        } else {
            winograd_filter6(p, w, U, row, k, 5);
        }
        return;
    }
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
