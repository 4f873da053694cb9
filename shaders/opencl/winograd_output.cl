// winograd_output: the 2x2 tile A^T m A of m = M[.][k][t] (plus b[k] when
// Bias != 0, then clamped as relu_fwd when Relu != 0) goes to y[n][k] at
// rows 2*th.. and columns 2*tw.. of tile t, the rows and columns past OH, OW
// left out (see backend.WinogradOutput, the matrices in
// backend/ref/winograd.go). 2-D launch (t, k), one
// work-item per tile and channel: neighbouring work-items read
// neighbouring elements of M.
#include "params.h"
#include "common.h"

// The store, clamped as relu_fwd (v > 0 ? v : 0) when relu.
CG_INLINE float winograd_store(const uint relu, const float v) { return (relu && !(v > 0.0f)) ? 0.0f : v; }

__kernel void winograd_output(const WinogradOutputParams p, __global const float* restrict M, __global const float* restrict b,
                              __global float* restrict y) {
    const uint t = GID0, k = (uint)get_global_id(1);
    const uint th = (p.OH + 1u) / 2u, tw = (p.OW + 1u) / 2u;
    const uint tiles = p.N * th * tw;
    if (t >= tiles || k >= p.K) return;
    const size_t plane = (size_t)p.K * tiles;
    __global const float* mp = M + (size_t)k * tiles + t;
    float e[2][4]; // A^T m
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const float m0 = mp[j * plane], m1 = mp[(4 + j) * plane], m2 = mp[(8 + j) * plane], m3 = mp[(12 + j) * plane];
        e[0][j] = m0 + m1 + m2;
        e[1][j] = m1 - m2 - m3;
    }
    const float bias = p.Bias ? b[k] : 0.0f;
    const uint n = t / (th * tw), r = t % (th * tw);
    const uint oy = 2u * (r / tw), ox = 2u * (r % tw);
    __global float* yp = y + ((size_t)(n * p.K + k) * p.OH + oy) * p.OW + ox;
#pragma unroll
    for (int i = 0; i < 2; i++) { // (A^T m) A
        if (oy + (uint)i >= p.OH) break;
        yp[i * p.OW] = winograd_store(p.Relu, bias + (e[i][0] + e[i][1] + e[i][2]));
        if (ox + 1u < p.OW) yp[i * p.OW + 1] = winograd_store(p.Relu, bias + (e[i][1] - e[i][2] - e[i][3]));
    }
}
