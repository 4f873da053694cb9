// winograd_input: V[xi][q*C+c][t] = (B^T d B)[xi] of the 4x4 window d of
// x[n][c] at rows 2*th-PadH+3*a.. and columns 2*tw-PadW+3*b.. of tile t =
// (n*TH+th)*TW+tw (TH = ceil(OH/2), TW = ceil(OW/2)) for kernel block q =
// a*BS+b (BS = ceil(S/3)), zero outside the image; xi = 4*i+j (see
// backend.WinogradInput, the matrices in backend/ref/winograd.go). One
// invocation per block, channel and tile, tiles fastest. Buffers:
// x[N*C*H*W], V[16*Q*C*P], ym[N*C*H*W] (x when MaskRelu == 0, unread). With MaskRelu x is read masked as relu_bwd by the ReLU output
// ym (ym > 0 ? x : 0).
// With K5 it is F(2x2,5x5)'s transform of 6x6 windows instead (main5).
#include "params.glsl"
#include "common.glsl"
#include "winograd_tiles.glsl"
#include "winograd5.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { WinogradInputParams p; };
READ_BUFFER(0, X, x);
layout(std430, set = 0, binding = 1) writeonly restrict buffer V { float v[]; };
READ_BUFFER(2, Ym, ym);

#define MASKED_SRC x
#include "relu_masked.glsl"

// F(2x2,5x5): V[xi][c][t] = (B^T d B)[xi], xi = 6*i+j, of the 6x6 window d
// at rows 2*th-PadH.. and columns 2*tw-PadW.. (one block, row = c).
void main5() {
    WgTiles g = wgTiles(p.N, p.OH, p.OW);
    uint tiles = g.count;
    uint total = tiles * p.C;
    int H = int(p.H), W = int(p.W);
    for (uint o = gridIndex(); o < total; o += gridStride()) {
        uint t = o % tiles, c = o / tiles;
        uint n, oy, ox;
        wgTileOrigin(g, t, n, oy, ox);
        int y0 = int(oy) - int(p.PadH), x0 = int(ox) - int(p.PadW);
        uint base = (n * p.C + c) * p.H * p.W;
        float e[6][6]; // B^T d
        for (int b = 0; b < 6; b++) {
            float col[6], tr[6];
            int xx = x0 + b;
            for (int a = 0; a < 6; a++) {
                int y = y0 + a;
                bool inside = y >= 0 && y < H && xx >= 0 && xx < W;
                uint i = base + uint(y * W + xx);
                col[a] = masked(inside, i);
            }
            wgBt6(col, tr);
            for (int i = 0; i < 6; i++) {
                e[i][b] = tr[i];
            }
        }
        uint plane = p.C * tiles;
        for (uint i = 0u; i < 6u; i++) { // (B^T d) B
            float row[6];
            wgBt6(e[i], row);
            for (uint j = 0u; j < 6u; j++) {
                v[o + (6u * i + j) * plane] = row[j];
            }
        }
    }
}

void main() {
    if (p.K5 != 0u) {
        main5();
        return;
    }
    WgTiles g = wgTiles(p.N, p.OH, p.OW);
    uint tiles = g.count;
    uint bs = (p.S + 2u) / 3u, rows = (p.R + 2u) / 3u * bs * p.C;
    uint total = tiles * rows;
    int H = int(p.H), W = int(p.W);
    for (uint o = gridIndex(); o < total; o += gridStride()) {
        uint t = o % tiles, row = o / tiles;
        uint q = row / p.C, c = row % p.C;
        uint n, oy, ox;
        wgTileOrigin(g, t, n, oy, ox);
        int y0 = int(oy + 3u * (q / bs)) - int(p.PadH);
        int x0 = int(ox + 3u * (q % bs)) - int(p.PadW);
        uint base = (n * p.C + c) * p.H * p.W;
        float d[4][4];
        for (int a = 0; a < 4; a++) {
            int y = y0 + a;
            for (int b = 0; b < 4; b++) {
                int xx = x0 + b;
                bool inside = y >= 0 && y < H && xx >= 0 && xx < W;
                uint i = base + uint(y * W + xx);
                d[a][b] = masked(inside, i);
            }
        }
        float e[4][4]; // B^T d
        for (int b = 0; b < 4; b++) {
            e[0][b] = d[0][b] - d[2][b];
            e[1][b] = d[1][b] + d[2][b];
            e[2][b] = d[2][b] - d[1][b];
            e[3][b] = d[1][b] - d[3][b];
        }
        uint plane = rows * tiles;
        uint vo = o;
        for (uint i = 0u; i < 4u; i++) { // (B^T d) B
            v[vo + (4u * i) * plane] = e[i][0] - e[i][2];
            v[vo + (4u * i + 1u) * plane] = e[i][1] + e[i][2];
            v[vo + (4u * i + 2u) * plane] = e[i][2] - e[i][1];
            v[vo + (4u * i + 3u) * plane] = e[i][1] - e[i][3];
        }
    }
}
