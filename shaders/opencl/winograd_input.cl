// winograd_input: V[xi][q*C+c][t] = (B^T d B)[xi] of the 4x4 window d of
// x[n][c] at rows 2*th-PadH+3*a.. and columns 2*tw-PadW+3*b.. of tile t =
// (n*TH+th)*TW+tw (TH = ceil(OH/2), TW = ceil(OW/2)) for kernel block q =
// a*BS+b (BS = ceil(S/3)), zero outside the image; xi = 4*i+j (see
// backend.WinogradInput, the matrices in backend/ref/winograd.go).
// 2-D launch ((N*TH)*RW, q*C+c), RW = ceil(TW/4): one work-item per run of
// up to four neighbouring tiles of one tile row, block and channel. It reads
// the run's 4x10 window once (clamped addresses, then zero where outside),
// transforms the four tiles as float4 lanes and stores each plane's four
// elements with one vstore4. One work-item per tile made PoCL keep the
// kernel scalar (the tile's loads are gathers to its vectoriser) and cost
// a branch per element. With p.MaskRelu x is read masked as relu_bwd by
// the ReLU output ym (ym > 0 ? x : 0); without it ym is x, unread. With
// p.K5 it is F(2x2,5x5)'s transform instead (one block), with p.F4
// F(4x4,3x3)'s: the same B^T of 6x6 windows (winograd_input6), at tile
// stride 4 over TH = ceil(OH/4), TW = ceil(OW/4) tiles for F4, of each 3x3
// block q as above.
#include "params.h"
#include "common.h"
#include "winograd.h"

// F(2x2,5x5) (side 2) and F(4x4,3x3) (side 4): V[xi][q*C+c][t] =
// (B^T d B)[xi], xi = 6*i+j, of the 6x6 window d at rows
// side*th-PadH+3*a.. and columns side*tw-PadW+3*b.. (row = q*C+c, block q =
// a*BS+b; with K5 the one block, row = c), the run's four windows read
// once, as one 6x(3*side+6) window.
CG_INLINE void winograd_input6(const WinogradInputParams p, __global const float* restrict x, __global float* restrict V,
                               __global const float* restrict ym, const uint g, const uint row, const uint side) {
    const uint th = (p.OH + side - 1u) / side, tw = (p.OW + side - 1u) / side;
    const uint rw = (tw + WINOGRAD_LANES - 1u) / WINOGRAD_LANES;
    const uint tiles = p.N * th * tw, bs = wg_bs(p.S, p.K5), rows = wg_blocks(p.R, p.S, p.K5) * p.C;
    const uint q = row / p.C, c = row % p.C;
    const uint u = g % rw, tr = g / rw;
    const uint n = tr / th, tw0 = u * WINOGRAD_LANES, m = min((uint)WINOGRAD_LANES, tw - tw0);
    const int y0 = (int)(side * (tr % th) + 3u * (q / bs)) - (int)p.PadH;
    const int x0 = (int)(side * tw0 + 3u * (q % bs)) - (int)p.PadW;
    const int H = (int)p.H, W = (int)p.W;
    __global const float* xp = x + (size_t)(n * p.C + c) * p.H * p.W;
    __global const float* yp = ym + (size_t)(n * p.C + c) * p.H * p.W;
    float4 d[6][6]; // d[a][b]: element (a, b) of the four tiles' windows
#pragma unroll
    for (int a = 0; a < 6; a++) {
        const int y = y0 + a, yc = clamp(y, 0, H - 1);
        float w[18];
#pragma unroll
        for (int j = 0; j < 3 * (int)side + 6; j++) {
            const int xx = x0 + j, o = yc * W + clamp(xx, 0, W - 1);
            const bool in = y >= 0 && y < H && xx >= 0 && xx < W && (!p.MaskRelu || yp[o] > 0.0f);
            w[j] = in ? xp[o] : 0.0f;
        }
#pragma unroll
        for (int b = 0; b < 6; b++) d[a][b] = (float4)(w[b], w[b + side], w[b + 2 * side], w[b + 3 * side]);
    }
    float4 e[6][6]; // e[i][b] = (B^T d)[i][b]
#pragma unroll
    for (int b = 0; b < 6; b++) {
        float4 col[6], t[6];
#pragma unroll
        for (int a = 0; a < 6; a++) col[a] = d[a][b];
        wg_bt6(col, t);
#pragma unroll
        for (int i = 0; i < 6; i++) e[i][b] = t[i];
    }
    const size_t plane = (size_t)rows * tiles;
    __global float* vp = V + (size_t)row * tiles + (size_t)tr * tw + tw0;
#pragma unroll
    for (int i = 0; i < 6; i++) { // (B^T d) B
        float4 v[6];
        wg_bt6(e[i], v);
#pragma unroll
        for (int j = 0; j < 6; j++) wg_store_lanes(v[j], m, vp + (size_t)(6 * i + j) * plane);
    }
}

__kernel void winograd_input(const WinogradInputParams p, __global const float* restrict x, __global float* restrict V,
                             __global const float* restrict ym) {
    const uint g = GID0, row = (uint)get_global_id(1);
    if (p.K5 || p.F4) {
        const uint side = p.F4 ? 4u : 2u;
        const uint th = (p.OH + side - 1u) / side, rw = ((p.OW + side - 1u) / side + WINOGRAD_LANES - 1u) / WINOGRAD_LANES;
        if (g >= p.N * th * rw || row >= wg_blocks(p.R, p.S, p.K5) * p.C) return;
        if (p.F4) {
            winograd_input6(p, x, V, ym, g, row, 4u);
        } else {
            winograd_input6(p, x, V, ym, g, row, 2u);
        }
        return;
    }
    const uint th = (p.OH + 1u) / 2u, tw = (p.OW + 1u) / 2u, rw = (tw + WINOGRAD_LANES - 1u) / WINOGRAD_LANES;
    const uint tiles = p.N * th * tw, bs = (p.S + 2u) / 3u, rows = (p.R + 2u) / 3u * bs * p.C;
    if (g >= p.N * th * rw || row >= rows) return;
    const uint q = row / p.C, c = row % p.C;
    const uint u = g % rw, tr = g / rw; // run u of tile row tr = n*TH+th
    const uint n = tr / th, tw0 = u * WINOGRAD_LANES, m = min((uint)WINOGRAD_LANES, tw - tw0);
    const int y0 = (int)(2u * (tr % th) + 3u * (q / bs)) - (int)p.PadH;
    const int x0 = (int)(2u * tw0 + 3u * (q % bs)) - (int)p.PadW;
    const int H = (int)p.H, W = (int)p.W;
    __global const float* xp = x + (size_t)(n * p.C + c) * p.H * p.W;
    __global const float* yp = ym + (size_t)(n * p.C + c) * p.H * p.W;
    float4 d[4][4]; // d[a][b]: element (a, b) of the four tiles' windows
#pragma unroll
    for (int a = 0; a < 4; a++) {
        const int y = y0 + a, yc = clamp(y, 0, H - 1);
        float w[10];
#pragma unroll
        for (int j = 0; j < 10; j++) {
            const int xx = x0 + j, o = yc * W + clamp(xx, 0, W - 1);
            const bool in = y >= 0 && y < H && xx >= 0 && xx < W && (!p.MaskRelu || yp[o] > 0.0f);
            w[j] = in ? xp[o] : 0.0f;
        }
#pragma unroll
        for (int b = 0; b < 4; b++) d[a][b] = (float4)(w[b], w[b + 2], w[b + 4], w[b + 6]);
    }
    float4 e[4][4]; // B^T d
#pragma unroll
    for (int b = 0; b < 4; b++) {
        e[0][b] = d[0][b] - d[2][b];
        e[1][b] = d[1][b] + d[2][b];
        e[2][b] = d[2][b] - d[1][b];
        e[3][b] = d[1][b] - d[3][b];
    }
    const size_t plane = (size_t)rows * tiles;
    __global float* vp = V + (size_t)row * tiles + (size_t)tr * tw + tw0;
#pragma unroll
    for (int i = 0; i < 4; i++) { // (B^T d) B
        const float4 v[4] = {e[i][0] - e[i][2], e[i][1] + e[i][2], e[i][2] - e[i][1], e[i][1] - e[i][3]};
#pragma unroll
        for (int j = 0; j < 4; j++) wg_store_lanes(v[j], m, vp + (size_t)(4 * i + j) * plane);
    }
}
