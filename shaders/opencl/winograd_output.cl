// winograd_output: the 2x2 tile A^T m A of m = M[.][k][t] (plus b[k] when
// Bias != 0, then clamped as relu_fwd when Relu != 0) goes to y[n][k] at
// rows 2*th.. and columns 2*tw.. of tile t, the rows and columns past OH, OW
// left out (see backend.WinogradOutput, the matrices in
// backend/ref/winograd.go). 2-D launch ((N*TH)*RW, k), RW = ceil(TW/4): one
// work-item per run of up to four neighbouring tiles of one tile row and
// channel, which reads each plane's four elements with one vload4,
// transforms the tiles as float4 lanes and writes its two output rows of
// eight values (see winograd_input for why not one tile per work-item).
// With p.K5 m has F(2x2,5x5)'s 36 points (xi = 6*i+j) and A^T is its 2x6
// matrix; with p.F4 F(4x4,3x3)'s 36, its A^T (4x6) and 4x4 tiles at rows
// 4*th.. and columns 4*tw.. (TH = ceil(OH/4), TW = ceil(OW/4)), the run's
// four output rows of sixteen values (winograd_output4).
#include "params.h"
#include "common.h"
#include "winograd.h"

// The store, clamped as relu_fwd (v > 0 ? v : 0) when relu.
CG_INLINE float4 winograd_store(const uint relu, const float4 v) { return relu ? select((float4)(0.0f), v, v > 0.0f) : v; }

// Loads the first m lanes of src (the rest 0).
CG_INLINE float4 wg_load_lanes(__global const float* src, const uint m) {
    if (m == WINOGRAD_LANES) return vload4(0, src);
    return (float4)(src[0], m > 1u ? src[1] : 0.0f, m > 2u ? src[2] : 0.0f, 0.0f);
}

// Stores the two output rows c0[i], c1[i] (the tiles' columns 0 and 1,
// interleaved) of the run at yp, rows oy.. and columns ox.. inside OH x OW.
CG_INLINE void wg_store_rows(const WinogradOutputParams p, const float4* c0, const float4* c1, __global float* yp,
                             const uint oy, const uint ox) {
#pragma unroll
    for (int i = 0; i < 2; i++) {
        if (oy + (uint)i >= p.OH) break;
        const float8 r = (float8)(c0[i].s0, c1[i].s0, c0[i].s1, c1[i].s1, c0[i].s2, c1[i].s2, c0[i].s3, c1[i].s3);
        __global float* o = yp + i * p.OW;
        const uint cols = min(8u, p.OW - ox);
        if (cols == 8u) {
            vstore8(r, 0, o);
        } else {
            const float w[8] = {r.s0, r.s1, r.s2, r.s3, r.s4, r.s5, r.s6, r.s7};
            for (uint j = 0; j < cols; j++) o[j] = w[j];
        }
    }
}

// Stores the four output rows c[0][i]..c[3][i] (the tiles' columns 0 to 3,
// interleaved) of the run at yp, rows oy.. and columns ox.. inside OH x OW.
CG_INLINE void wg_store_rows4(const WinogradOutputParams p, float4 c[4][4], __global float* yp, const uint oy,
                              const uint ox) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
        if (oy + (uint)i >= p.OH) break;
        const float16 r = (float16)(c[0][i].s0, c[1][i].s0, c[2][i].s0, c[3][i].s0, c[0][i].s1, c[1][i].s1, c[2][i].s1,
                                    c[3][i].s1, c[0][i].s2, c[1][i].s2, c[2][i].s2, c[3][i].s2, c[0][i].s3, c[1][i].s3,
                                    c[2][i].s3, c[3][i].s3);
        __global float* o = yp + i * p.OW;
        const uint cols = min(16u, p.OW - ox);
        if (cols == 16u) {
            vstore16(r, 0, o);
        } else {
            const float w[16] = {r.s0, r.s1, r.s2, r.s3, r.s4, r.s5, r.s6, r.s7,
                                 r.s8, r.s9, r.sa, r.sb, r.sc, r.sd, r.se, r.sf};
            for (uint j = 0; j < cols; j++) o[j] = w[j];
        }
    }
}

// F(4x4,3x3): the run's 4x4 tiles (A^T m A)[i][j] + b[k] of m = M[.][k][t].
CG_INLINE void winograd_output4(const WinogradOutputParams p, __global const float* restrict M,
                                __global const float* restrict b, __global float* restrict y, const uint g, const uint k) {
    const uint th = (p.OH + 3u) / 4u, tw = (p.OW + 3u) / 4u, rw = (tw + WINOGRAD_LANES - 1u) / WINOGRAD_LANES;
    const uint tiles = p.N * th * tw;
    if (g >= p.N * th * rw || k >= p.K) return;
    const uint u = g % rw, tr = g / rw;
    const uint n = tr / th, tw0 = u * WINOGRAD_LANES, m = min((uint)WINOGRAD_LANES, tw - tw0);
    const size_t plane = (size_t)p.K * tiles;
    __global const float* mp = M + (size_t)k * tiles + (size_t)tr * tw + tw0;
    const float4 bias = (float4)(p.Bias ? b[k] : 0.0f);
    const uint oy = 4u * (tr % th), ox = 4u * tw0;
    float4 e[4][6]; // A^T m
#pragma unroll
    for (int j = 0; j < 6; j++) {
        float4 v[6], o[4];
#pragma unroll
        for (int i = 0; i < 6; i++) v[i] = wg_load_lanes(mp + (size_t)(6 * i + j) * plane, m);
        wg_at4(v, o);
#pragma unroll
        for (int i = 0; i < 4; i++) e[i][j] = o[i];
    }
    float4 c[4][4]; // c[j][i]: column j of output row i
#pragma unroll
    for (int i = 0; i < 4; i++) { // (A^T m) A
        float4 o[4];
        wg_at4(e[i], o);
#pragma unroll
        for (int j = 0; j < 4; j++) c[j][i] = winograd_store(p.Relu, bias + o[j]);
    }
    wg_store_rows4(p, c, y + ((size_t)(n * p.K + k) * p.OH + oy) * p.OW + ox, oy, ox);
}

__kernel void winograd_output(const WinogradOutputParams p, __global const float* restrict M, __global const float* restrict b,
                              __global float* restrict y) {
    const uint g = GID0, k = (uint)get_global_id(1);
    if (p.F4) {
        winograd_output4(p, M, b, y, g, k);
        return;
    }
    const uint th = (p.OH + 1u) / 2u, tw = (p.OW + 1u) / 2u, rw = (tw + WINOGRAD_LANES - 1u) / WINOGRAD_LANES;
    const uint tiles = p.N * th * tw;
    if (g >= p.N * th * rw || k >= p.K) return;
    const uint u = g % rw, tr = g / rw; // run u of tile row tr = n*TH+th
    const uint n = tr / th, tw0 = u * WINOGRAD_LANES, m = min((uint)WINOGRAD_LANES, tw - tw0);
    const size_t plane = (size_t)p.K * tiles;
    __global const float* mp = M + (size_t)k * tiles + (size_t)tr * tw + tw0;
    const float4 bias = (float4)(p.Bias ? b[k] : 0.0f);
    const uint oy = 2u * (tr % th), ox = 2u * tw0;
    __global float* yp = y + ((size_t)(n * p.K + k) * p.OH + oy) * p.OW + ox;
    float4 c0[2], c1[2];
    if (p.K5) {
        float4 e[2][6]; // A^T m
#pragma unroll
        for (int j = 0; j < 6; j++) {
            float4 v[6], o[2];
#pragma unroll
            for (int i = 0; i < 6; i++) v[i] = wg_load_lanes(mp + (size_t)(6 * i + j) * plane, m);
            wg_at6(v, o);
            e[0][j] = o[0];
            e[1][j] = o[1];
        }
#pragma unroll
        for (int i = 0; i < 2; i++) { // (A^T m) A
            float4 o[2];
            wg_at6(e[i], o);
            c0[i] = winograd_store(p.Relu, bias + o[0]);
            c1[i] = winograd_store(p.Relu, bias + o[1]);
        }
    } else {
        float4 e[2][4]; // A^T m
#pragma unroll
        for (int j = 0; j < 4; j++) {
            float4 v[4];
#pragma unroll
            for (int i = 0; i < 4; i++) v[i] = wg_load_lanes(mp + (size_t)(4 * i + j) * plane, m);
            e[0][j] = v[0] + v[1] + v[2];
            e[1][j] = v[1] - v[2] - v[3];
        }
#pragma unroll
        for (int i = 0; i < 2; i++) { // (A^T m) A
            c0[i] = winograd_store(p.Relu, bias + (e[i][0] + e[i][1] + e[i][2]));
            c1[i] = winograd_store(p.Relu, bias + (e[i][1] - e[i][2] - e[i][3]));
        }
    }
    wg_store_rows(p, c0, c1, yp, oy, ox);
}
