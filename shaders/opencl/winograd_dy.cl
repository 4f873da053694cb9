// winograd_dy: E[xi][t][k] = (G' e G'^T)[xi] of the 2x2 tile e of dy[n][k]
// at rows 2*th, 2*th+1 and columns 2*tw, 2*tw+1 of tile t = (n*TH+th)*TW+tw
// (TH = ceil(OH/2), TW = ceil(OW/2)), zero past OH, OW; xi = 4*i+j, E
// index (xi*P + t)*K + k, G' = [[2,0],[1,1],[1,-1],[0,2]] (see
// backend.WinogradDy, the matrices in backend/ref). 2-D launch
// (ceil(K/4), t): one work-item per four consecutive channels and one tile,
// which transforms the four channels as float4 lanes and stores each
// plane's four elements with one vstore4 (one work-item per channel made
// PoCL keep the kernel scalar: its loads are gathers to the vectoriser).
// With p.MaskRelu dy is read masked as relu_bwd by the ReLU output ym
// (ym > 0 ? dy : 0); without it ym is dy, unread. With p.K5 it is
// F(5x5,2x2)'s 6x2 G' instead (36 planes, xi = 6*i+j); with p.F4
// F(3x3,4x4)'s 6x4 G' of the 4x4 tile at rows 4*th.. and columns 4*tw..
// (TH = ceil(OH/4), TW = ceil(OW/4); 36 planes, winograd_dy4).
#include "params.h"
#include "common.h"
#include "winograd.h"

// o = G' (e0, e1) of F(5x5,2x2).
CG_INLINE void wg_gd5(const float4 e0, const float4 e1, float4* o) {
    o[0] = 6.0f * e0;
    o[1] = -4.0f * (e0 + e1);
    o[2] = 4.0f * (e1 - e0);
    o[3] = e0 + 2.0f * e1;
    o[4] = e0 - 2.0f * e1;
    o[5] = 24.0f * e1;
}

// o = G' e of F(3x3,4x4), e four float4s.
CG_INLINE void wg_gd4(const float4* e, float4* o) {
    const float4 p1 = e[0] + e[2], p2 = e[1] + e[3];
    o[0] = 6.0f * e[0];
    o[1] = -4.0f * (p1 + p2);
    o[2] = 4.0f * (p2 - p1);
    o[3] = e[0] + 2.0f * e[1] + 4.0f * e[2] + 8.0f * e[3];
    o[4] = e[0] - 2.0f * e[1] + 4.0f * e[2] - 8.0f * e[3];
    o[5] = 24.0f * e[3];
}

// The lanes (channels k0..) of dy at row a and column b of the tile at rows
// oy.. and columns ox.. (first element base): zero past OH, OW and the
// lanes, masked with p.MaskRelu.
CG_INLINE float4 wg_dy_load(const WinogradDyParams p, __global const float* restrict dy,
                            __global const float* restrict ym, const size_t base, const uint oy, const uint ox,
                            const uint a, const uint b, const uint lanes) {
    const size_t chan = (size_t)p.OH * p.OW;
    const bool in = oy + a < p.OH && ox + b < p.OW;
    const size_t i = base + (in ? a * p.OW + b : 0u);
    float v[WINOGRAD_LANES];
#pragma unroll
    for (uint l = 0; l < WINOGRAD_LANES; l++) {
        const size_t o = i + (l < lanes ? l : 0u) * chan;
        v[l] = (in && l < lanes && (!p.MaskRelu || ym[o] > 0.0f)) ? dy[o] : 0.0f;
    }
    return (float4)(v[0], v[1], v[2], v[3]);
}

// F(3x3,4x4): the 4x4 tile at oy.., ox.. (first element base) by the 6x4
// G' into the 36 planes of ep.
CG_INLINE void winograd_dy4(const WinogradDyParams p, __global const float* restrict dy,
                            __global const float* restrict ym, const size_t base, const uint oy, const uint ox,
                            const uint lanes, __global float* ep, const size_t plane) {
    float4 u[4][6]; // u[b]: G' of column b of e
#pragma unroll
    for (uint b = 0; b < 4u; b++) {
        float4 e[4];
#pragma unroll
        for (uint a = 0; a < 4u; a++) e[a] = wg_dy_load(p, dy, ym, base, oy, ox, a, b, lanes);
        wg_gd4(e, u[b]);
    }
#pragma unroll
    for (int i = 0; i < 6; i++) { // (G' e) G'^T
        const float4 r[4] = {u[0][i], u[1][i], u[2][i], u[3][i]};
        float4 v[6];
        wg_gd4(r, v);
#pragma unroll
        for (int j = 0; j < 6; j++) wg_store_lanes(v[j], lanes, ep + (size_t)(6 * i + j) * plane);
    }
}

__kernel void winograd_dy(const WinogradDyParams p, __global const float* restrict dy, __global float* restrict E,
                          __global const float* restrict ym) {
    const uint k0 = GID0 * WINOGRAD_LANES, t = (uint)get_global_id(1);
    const uint side = p.F4 ? 4u : 2u;
    const uint th = (p.OH + side - 1u) / side, tw = (p.OW + side - 1u) / side;
    const uint tiles = p.N * th * tw;
    if (k0 >= p.K || t >= tiles) return;
    const uint lanes = min((uint)WINOGRAD_LANES, p.K - k0);
    const uint n = t / (th * tw), r = t % (th * tw);
    const uint oy = side * (r / tw), ox = side * (r % tw);
    const size_t base = ((size_t)(n * p.K + k0) * p.OH + oy) * p.OW + ox;
    const size_t plane = (size_t)tiles * p.K;
    __global float* ep = E + (size_t)t * p.K + k0;
    if (p.F4) {
        winograd_dy4(p, dy, ym, base, oy, ox, lanes, ep, plane);
        return;
    }
    float4 e[2][2];
#pragma unroll
    for (uint a = 0; a < 2u; a++) {
#pragma unroll
        for (uint b = 0; b < 2u; b++) e[a][b] = wg_dy_load(p, dy, ym, base, oy, ox, a, b, lanes);
    }
    if (p.K5) { // F(5x5,2x2): G' = [[6,0],[-4,-4],[-4,4],[1,2],[1,-2],[0,24]]
        float4 u0[6], u1[6]; // columns 0 and 1 of G' e
        wg_gd5(e[0][0], e[1][0], u0);
        wg_gd5(e[0][1], e[1][1], u1);
#pragma unroll
        for (int i = 0; i < 6; i++) { // (G' e) G'^T
            float4 v[6];
            wg_gd5(u0[i], u1[i], v);
#pragma unroll
            for (int j = 0; j < 6; j++) wg_store_lanes(v[j], lanes, ep + (size_t)(6 * i + j) * plane);
        }
        return;
    }
    float4 u[4][2]; // G' e
#pragma unroll
    for (int b = 0; b < 2; b++) {
        u[0][b] = 2.0f * e[0][b];
        u[1][b] = e[0][b] + e[1][b];
        u[2][b] = e[0][b] - e[1][b];
        u[3][b] = 2.0f * e[1][b];
    }
#pragma unroll
    for (int i = 0; i < 4; i++) { // (G' e) G'^T
        const float4 v[4] = {2.0f * u[i][0], u[i][0] + u[i][1], u[i][0] - u[i][1], 2.0f * u[i][1]};
#pragma unroll
        for (int j = 0; j < 4; j++) wg_store_lanes(v[j], lanes, ep + (size_t)(4 * i + j) * plane);
    }
}
