// winograd_dy: E[xi][t][k] = (G' e G'^T)[xi] of the 2x2 tile e of dy[n][k]
// at rows 2*th, 2*th+1 and columns 2*tw, 2*tw+1 of tile t = (n*TH+th)*TW+tw
// (TH = ceil(OH/2), TW = ceil(OW/2)), zero past OH, OW; xi = 4*i+j, E
// index (xi*P + t)*K + k, G' = [[2,0],[1,1],[1,-1],[0,2]] (see
// backend.WinogradDy, the matrices in backend/ref). 2-D launch (k, t), one
// work-item per channel and tile: neighbouring work-items write
// neighbouring elements of E. With p.MaskRelu dy is read masked as
// relu_bwd by the ReLU output ym (ym > 0 ? dy : 0); without it ym is dy,
// unread.
#include "params.h"
#include "common.h"

__kernel void winograd_dy(const WinogradDyParams p, __global const float* restrict dy, __global float* restrict E,
                          __global const float* restrict ym) {
    const uint k = GID0, t = (uint)get_global_id(1);
    const uint th = (p.OH + 1u) / 2u, tw = (p.OW + 1u) / 2u;
    const uint tiles = p.N * th * tw;
    if (k >= p.K || t >= tiles) return;
    const uint n = t / (th * tw), r = t % (th * tw);
    const uint oy = 2u * (r / tw), ox = 2u * (r % tw);
    const size_t base = ((size_t)(n * p.K + k) * p.OH + oy) * p.OW + ox;
    float e[2][2];
#pragma unroll
    for (uint a = 0; a < 2u; a++) {
#pragma unroll
        for (uint b = 0; b < 2u; b++) {
            const size_t i = base + a * p.OW + b;
            const bool in = oy + a < p.OH && ox + b < p.OW;
            e[a][b] = (in && (!p.MaskRelu || ym[i] > 0.0f)) ? dy[i] : 0.0f;
        }
    }
    float u[4][2]; // G' e
#pragma unroll
    for (int b = 0; b < 2; b++) {
        u[0][b] = 2.0f * e[0][b];
        u[1][b] = e[0][b] + e[1][b];
        u[2][b] = e[0][b] - e[1][b];
        u[3][b] = 2.0f * e[1][b];
    }
    const size_t plane = (size_t)tiles * p.K;
    __global float* ep = E + (size_t)t * p.K + k;
#pragma unroll
    for (int i = 0; i < 4; i++) { // (G' e) G'^T
        ep[(4 * i) * plane] = 2.0f * u[i][0];
        ep[(4 * i + 1) * plane] = u[i][0] + u[i][1];
        ep[(4 * i + 2) * plane] = u[i][0] - u[i][1];
        ep[(4 * i + 3) * plane] = 2.0f * u[i][1];
    }
}
