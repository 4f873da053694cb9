// winograd_dw: block q = a*BS+b (BS = ceil(S/3)) of dw[k][c], rows 3a..
// and columns 3b.. inside R x S, = A'^T m A' (3x3) of m[xi] =
// M[xi][q*C+c][k] (index (xi*Q*C + q*C + c)*K + k), A'^T =
// [[1,1,1,0],[0,1,-1,0],[0,1,1,-1]] / 2, and db[k] = sum over tiles t < P
// of E[5][t][k] (index (5*P + t)*K + k), summed in t order; both
// overwritten (see backend.WinogradDw, the matrices in backend/ref). 2-D
// launch (k, q*C+c), one work-item per block of a channel pair:
// neighbouring work-items read neighbouring elements of M; the work-items
// of row 0 also sum db[k]. With p.K5 it is F(5x5,2x2)'s 5x6 A'^T, with
// p.F4 F(3x3,4x4)'s 3x6 A'^T = [[1,1,1,1,1,0],[0,1,-1,2,-2,0],
// [0,1,1,4,4,1]] / 24 of each 3x3 block q as above, both of 36 points
// (xi = 6*i+j) with db[k] = sum over t of E[7][t][k] / 16 (winograd_dw6).
#include "params.h"
#include "common.h"

// Row o = A'^T m of F(5x5,2x2), without its 1/24.
CG_INLINE void wg_atd5(const float* m, float* o) {
    o[0] = m[0] + m[1] + m[2] + m[3] + m[4];
    o[1] = m[1] - m[2] + 2.0f * (m[3] - m[4]);
    o[2] = m[1] + m[2] + 4.0f * (m[3] + m[4]);
    o[3] = m[1] - m[2] + 8.0f * (m[3] - m[4]);
    o[4] = m[1] + m[2] + 16.0f * (m[3] + m[4]) + m[5];
}

// Row o = A'^T m of F(3x3,4x4), without its 1/24.
CG_INLINE void wg_atd3(const float* m, float* o) {
    o[0] = m[0] + m[1] + m[2] + m[3] + m[4];
    o[1] = m[1] - m[2] + 2.0f * (m[3] - m[4]);
    o[2] = m[1] + m[2] + 4.0f * (m[3] + m[4]) + m[5];
}

// A'^T m of n (5 or 3) rows: wg_atd5 or wg_atd3.
CG_INLINE void wg_atdn(const float* m, float* o, const int n) {
    if (n == 5) {
        wg_atd5(m, o);
    } else {
        wg_atd3(m, o);
    }
}

// F(5x5,2x2) (n 5, the whole 5x5 dw[k][c] as one block) and F(3x3,4x4)
// (n 3, block q = a*BS+b of dw[k][c], rows 3a.. and columns 3b.. inside
// R x S): A'^T m A' (n x n, 1/576 = 1/24 from each side) of m[xi] =
// M[xi][q*C+c][k], and (row 0 only) db[k] = sum over t of E[7][t][k] / 16.
CG_INLINE void winograd_dw6(const WinogradDwParams p, __global const float* restrict M,
                            __global const float* restrict E, __global float* restrict dw, __global float* restrict db,
                            const uint k, const uint row, const int n) {
    const uint bs = p.K5 ? 1u : (p.S + 2u) / 3u, rows = (p.K5 ? 1u : (p.R + 2u) / 3u * bs) * p.C;
    const uint q = row / p.C, c = row % p.C;
    const size_t plane = (size_t)rows * p.K;
    __global const float* mp = M + (size_t)row * p.K + k;
    float f[5][6]; // A'^T m, by columns
#pragma unroll
    for (int j = 0; j < 6; j++) {
        float col[6], o[5];
#pragma unroll
        for (int i = 0; i < 6; i++) col[i] = mp[(6 * i + j) * plane];
        wg_atdn(col, o, n);
#pragma unroll
        for (int r = 0; r < n; r++) f[r][j] = o[r];
    }
    const uint r0 = 3u * (q / bs), s0 = 3u * (q % bs);
    __global float* wp = dw + ((size_t)k * p.C + c) * p.R * p.S + r0 * p.S + s0;
#pragma unroll
    for (int r = 0; r < n; r++) { // (A'^T m) A'
        if (r0 + (uint)r >= p.R) break;
        float o[5];
        wg_atdn(f[r], o, n);
#pragma unroll
        for (int s = 0; s < n; s++) {
            if (s0 + (uint)s < p.S) wp[(uint)r * p.S + (uint)s] = o[s] * (1.0f / 576.0f);
        }
    }
    if (row != 0u) return;
    __global const float* ep = E + (size_t)7u * p.P * p.K + k;
    float s = 0.0f;
    for (uint t = 0; t < p.P; t++) s += ep[(size_t)t * p.K];
    db[k] = s * 0.0625f;
}

__kernel void winograd_dw(const WinogradDwParams p, __global const float* restrict M, __global const float* restrict E,
                          __global float* restrict dw, __global float* restrict db) {
    const uint k = GID0, row = (uint)get_global_id(1);
    if (p.K5 || p.F4) {
        if (k >= p.K || row >= (p.K5 ? 1u : (p.R + 2u) / 3u * ((p.S + 2u) / 3u)) * p.C) return;
        if (p.F4) {
            winograd_dw6(p, M, E, dw, db, k, row, 3);
        } else {
            winograd_dw6(p, M, E, dw, db, k, row, 5);
        }
        return;
    }
    const uint bs = (p.S + 2u) / 3u, rows = (p.R + 2u) / 3u * bs * p.C;
    if (k >= p.K || row >= rows) return;
    const uint q = row / p.C, c = row % p.C;
    const size_t plane = (size_t)rows * p.K;
    __global const float* mp = M + (size_t)row * p.K + k;
    float f[3][4]; // A'^T m, without the /2
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const float m0 = mp[j * plane], m1 = mp[(4 + j) * plane], m2 = mp[(8 + j) * plane], m3 = mp[(12 + j) * plane];
        f[0][j] = m0 + m1 + m2;
        f[1][j] = m1 - m2;
        f[2][j] = m1 + m2 - m3;
    }
    const uint r0 = 3u * (q / bs), s0 = 3u * (q % bs);
    __global float* wp = dw + ((size_t)k * p.C + c) * p.R * p.S + r0 * p.S + s0;
#pragma unroll
    for (uint r = 0; r < 3u; r++) { // (A'^T m) A', both /2 as one 0.25
        if (r0 + r >= p.R) break;
        const float o[3] = {0.25f * (f[r][0] + f[r][1] + f[r][2]), 0.25f * (f[r][1] - f[r][2]),
                            0.25f * (f[r][1] + f[r][2] - f[r][3])};
#pragma unroll
        for (uint s = 0; s < 3u; s++) {
            if (s0 + s < p.S) wp[r * p.S + s] = o[s];
        }
    }
    if (row != 0u) return;
    __global const float* ep = E + (size_t)5u * p.P * p.K + k;
    float s = 0.0f;
    for (uint t = 0; t < p.P; t++) s += ep[(size_t)t * p.K];
    db[k] = s;
}
