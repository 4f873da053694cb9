// winograd_input: V[xi][q*C+c][t] = (B^T d B)[xi] of the 4x4 window d of
// x[n][c] at rows 2*th-PadH+3*a.. and columns 2*tw-PadW+3*b.. of tile t =
// (n*TH+th)*TW+tw (TH = ceil(OH/2), TW = ceil(OW/2)) for kernel block q =
// a*BS+b (BS = ceil(S/3)), zero outside the image; xi = 4*i+j (see
// backend.WinogradInput, the matrices in backend/ref/winograd.go). 2-D
// launch (t, q*C+c), one work-item per tile, block and channel:
// neighbouring work-items write neighbouring elements of V. With
// p.MaskRelu x is read masked as relu_bwd by the ReLU output ym (ym > 0 ?
// x : 0); without it ym is x, unread.
#include "params.h"
#include "common.h"

__kernel void winograd_input(const WinogradInputParams p, __global const float* restrict x, __global float* restrict V,
                             __global const float* restrict ym) {
    const uint t = GID0, row = (uint)get_global_id(1);
    const uint th = (p.OH + 1u) / 2u, tw = (p.OW + 1u) / 2u;
    const uint tiles = p.N * th * tw, bs = (p.S + 2u) / 3u, rows = (p.R + 2u) / 3u * bs * p.C;
    if (t >= tiles || row >= rows) return;
    const uint q = row / p.C, c = row % p.C;
    const uint n = t / (th * tw), r = t % (th * tw);
    const int y0 = (int)(2u * (r / tw) + 3u * (q / bs)) - (int)p.PadH;
    const int x0 = (int)(2u * (r % tw) + 3u * (q % bs)) - (int)p.PadW;
    const int H = (int)p.H, W = (int)p.W;
    __global const float* xp = x + (size_t)(n * p.C + c) * p.H * p.W;
    __global const float* yp = ym + (size_t)(n * p.C + c) * p.H * p.W;
    float d[4][4];
#pragma unroll
    for (int a = 0; a < 4; a++) {
        const int y = y0 + a;
#pragma unroll
        for (int b = 0; b < 4; b++) {
            const int xx = x0 + b;
            const bool in = y >= 0 && y < H && xx >= 0 && xx < W;
            d[a][b] = (in && (!p.MaskRelu || yp[y * W + xx] > 0.0f)) ? xp[y * W + xx] : 0.0f;
        }
    }
    float e[4][4]; // B^T d
#pragma unroll
    for (int b = 0; b < 4; b++) {
        e[0][b] = d[0][b] - d[2][b];
        e[1][b] = d[1][b] + d[2][b];
        e[2][b] = d[2][b] - d[1][b];
        e[3][b] = d[1][b] - d[3][b];
    }
    const size_t plane = (size_t)rows * tiles;
    __global float* vp = V + (size_t)row * tiles + t;
#pragma unroll
    for (int i = 0; i < 4; i++) { // (B^T d) B
        vp[(4 * i) * plane] = e[i][0] - e[i][2];
        vp[(4 * i + 1) * plane] = e[i][1] + e[i][2];
        vp[(4 * i + 2) * plane] = e[i][2] - e[i][1];
        vp[(4 * i + 3) * plane] = e[i][1] - e[i][3];
    }
}
