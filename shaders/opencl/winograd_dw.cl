// winograd_dw: dw[k][c] = A'^T m A' (3x3) of m[xi] = M[xi][c][k] (index
// (xi*C + c)*K + k), A'^T = [[1,1,1,0],[0,1,-1,0],[0,1,1,-1]] / 2, and
// db[k] = sum over tiles t < P of E[5][t][k] (index (5*P + t)*K + k),
// summed in t order; both overwritten (see backend.WinogradDw, the
// matrices in backend/ref). 2-D launch (k, c), one work-item per channel
// pair: neighbouring work-items read neighbouring elements of M; the
// work-items of c == 0 also sum db[k].
#include "params.h"
#include "common.h"

__kernel void winograd_dw(const WinogradDwParams p, __global const float* restrict M, __global const float* restrict E,
                          __global float* restrict dw, __global float* restrict db) {
    const uint k = GID0, c = (uint)get_global_id(1);
    if (k >= p.K || c >= p.C) return;
    const size_t plane = (size_t)p.C * p.K;
    __global const float* mp = M + (size_t)c * p.K + k;
    float f[3][4]; // A'^T m, without the /2
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const float m0 = mp[j * plane], m1 = mp[(4 + j) * plane], m2 = mp[(8 + j) * plane], m3 = mp[(12 + j) * plane];
        f[0][j] = m0 + m1 + m2;
        f[1][j] = m1 - m2;
        f[2][j] = m1 + m2 - m3;
    }
    __global float* wp = dw + ((size_t)k * p.C + c) * 9u;
#pragma unroll
    for (int r = 0; r < 3; r++) { // (A'^T m) A', both /2 as one 0.25
        wp[3 * r] = 0.25f * (f[r][0] + f[r][1] + f[r][2]);
        wp[3 * r + 1] = 0.25f * (f[r][1] - f[r][2]);
        wp[3 * r + 2] = 0.25f * (f[r][1] + f[r][2] - f[r][3]);
    }
    if (c != 0u) return;
    __global const float* ep = E + (size_t)5u * p.P * p.K + k;
    float s = 0.0f;
    for (uint t = 0; t < p.P; t++) s += ep[(size_t)t * p.K];
    db[k] = s;
}
