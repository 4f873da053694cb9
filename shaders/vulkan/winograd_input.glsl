// winograd_input: V[xi][q*C+c][t] = (B^T d B)[xi] of the 4x4 window d of
// x[n][c] at rows 2*th-PadH+3*a.. and columns 2*tw-PadW+3*b.. of tile t =
// (n*TH+th)*TW+tw (TH = ceil(OH/2), TW = ceil(OW/2)) for kernel block q =
// a*BS+b (BS = ceil(S/3)), zero outside the image; xi = 4*i+j (see
// backend.WinogradInput, the matrices in backend/ref/winograd.go). One
// invocation per block, channel and tile, tiles fastest. Buffers:
// x[N*C*H*W], V[16*Q*C*P], ym[N*C*H*W] (x when MaskRelu == 0, unread). With MaskRelu x is read masked as relu_bwd by the ReLU output
// ym (ym > 0 ? x : 0).
// With K5 it is F(2x2,5x5)'s transform of 6x6 windows instead (main5), with
// F4 F(4x4,3x3)'s: the same transform of the 6x6 windows at rows
// 4*th-PadH.. and columns 4*tw-PadW.. of 4x4 tiles.
// With WG_VEC4 (winograd_input_vec4_tx, on CPU devices for P % 4 == 0 and
// V at a multiple of four elements) one invocation transforms four tiles
// t..t+3 of one block and channel as a vec4 and stores each element of V
// as one vec4: llvmpipe stores a vec4 for about the cost of one float.
#include "params.glsl"
#include "common.glsl"
#include "winograd_tiles.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { WinogradInputParams p; };
READ_BUFFER(0, X, x);
#ifdef WG_VEC4
#define WG_T vec4
#define WG_LANES 4u
layout(std430, set = 0, binding = 1) writeonly restrict buffer V { vec4 v[]; };
#else
#define WG_T float
#define WG_LANES 1u
layout(std430, set = 0, binding = 1) writeonly restrict buffer V { float v[]; };
#endif
READ_BUFFER(2, Ym, ym);

#define MASKED_SRC x
#include "relu_masked.glsl"

#include "winograd5.glsl"

// WgWindow is where the windows of an invocation's WG_LANES tiles start
// (component l for tile t+l; only component 0 without WG_VEC4): row y0,
// column x0 and the plane x[n][c] at base.
struct WgWindow {
    ivec4 y0, x0;
    uvec4 base;
};

// wgWindow is the windows of tiles t.. of channel c, offset by (dy, dx)
// from the tiles' origins (a kernel block's) and by the padding.
WgWindow wgWindow(WgTiles g, uint t, uint c, uint dy, uint dx) {
    WgWindow w;
    for (uint l = 0u; l < WG_LANES; l++) {
        uint n, oy, ox;
        wgTileOrigin(g, t + l, n, oy, ox);
        w.y0[l] = int(oy + dy) - int(p.PadH);
        w.x0[l] = int(ox + dx) - int(p.PadW);
        w.base[l] = (n * p.C + c) * p.H * p.W;
    }
    return w;
}

// windowAt is element (a, b) of the windows of w (masked; zero outside
// the image).
WG_T windowAt(WgWindow w, int a, int b) {
    WG_T o;
    for (uint l = 0u; l < WG_LANES; l++) {
        int y = w.y0[l] + a, xx = w.x0[l] + b;
        bool inside = y >= 0 && y < int(p.H) && xx >= 0 && xx < int(p.W);
#ifdef WG_VEC4
        o[l] = masked(inside, w.base[l] + uint(y * int(p.W) + xx));
#else
        o = masked(inside, w.base[l] + uint(y * int(p.W) + xx));
#endif
    }
    return o;
}

// F(2x2,5x5) and F(4x4,3x3): V[xi][q*C+c][t] = (B^T d B)[xi], xi = 6*i+j,
// of the 6x6 window d at rows m*th-PadH+3*a.. and columns m*tw-PadW+3*b..
// (tile side m = 2, one block, row = c; or with F4 m = 4 and the 3x3
// blocks q = a*BS+b of a kernel over 3x3).
void main6() {
    WgTiles g = wgTiles(p.N, p.OH, p.OW, p.F4 != 0u ? 4u : 2u);
    uint tiles = g.count;
    uint bs = p.F4 != 0u ? (p.S + 2u) / 3u : 1u;
    uint rows = (p.F4 != 0u ? (p.R + 2u) / 3u : 1u) * bs * p.C;
    uint total = tiles * rows / WG_LANES;
    for (uint o = gridIndex(); o < total; o += gridStride()) {
        uint ot = o * WG_LANES;
        uint t = ot % tiles, row = ot / tiles;
        uint q = row / p.C, c = row % p.C;
        WgWindow w = wgWindow(g, t, c, 3u * (q / bs), 3u * (q % bs));
        WG_T e[6][6]; // B^T d
        for (int b = 0; b < 6; b++) {
            WG_T col[6], tr[6];
            for (int a = 0; a < 6; a++) {
                col[a] = windowAt(w, a, b);
            }
            wgBt6(col, tr);
            for (int i = 0; i < 6; i++) {
                e[i][b] = tr[i];
            }
        }
        uint plane = rows * tiles / WG_LANES;
        for (uint i = 0u; i < 6u; i++) { // (B^T d) B
            WG_T row[6];
            wgBt6(e[i], row);
            for (uint j = 0u; j < 6u; j++) {
                v[o + (6u * i + j) * plane] = row[j];
            }
        }
    }
}

void main() {
    if (p.K5 != 0u || p.F4 != 0u) {
        main6();
        return;
    }
    WgTiles g = wgTiles(p.N, p.OH, p.OW, 2u);
    uint tiles = g.count;
    uint bs = (p.S + 2u) / 3u, rows = (p.R + 2u) / 3u * bs * p.C;
    uint total = tiles * rows / WG_LANES;
    for (uint o = gridIndex(); o < total; o += gridStride()) {
        uint ot = o * WG_LANES;
        uint t = ot % tiles, row = ot / tiles;
        uint q = row / p.C, c = row % p.C;
        WgWindow w = wgWindow(g, t, c, 3u * (q / bs), 3u * (q % bs));
        WG_T d[4][4];
        for (int a = 0; a < 4; a++) {
            for (int b = 0; b < 4; b++) {
                d[a][b] = windowAt(w, a, b);
            }
        }
        WG_T e[4][4]; // B^T d
        for (int b = 0; b < 4; b++) {
            e[0][b] = d[0][b] - d[2][b];
            e[1][b] = d[1][b] + d[2][b];
            e[2][b] = d[2][b] - d[1][b];
            e[3][b] = d[1][b] - d[3][b];
        }
        uint plane = rows * tiles / WG_LANES;
        uint vo = o;
        for (uint i = 0u; i < 4u; i++) { // (B^T d) B
            v[vo + (4u * i) * plane] = e[i][0] - e[i][2];
            v[vo + (4u * i + 1u) * plane] = e[i][1] + e[i][2];
            v[vo + (4u * i + 2u) * plane] = e[i][2] - e[i][1];
            v[vo + (4u * i + 3u) * plane] = e[i][1] - e[i][3];
        }
    }
}
