// winograd_dy: E[xi][t][k] = (G' e G'^T)[xi] of the 2x2 tile e of dy[n][k]
// at rows 2*th, 2*th+1 and columns 2*tw, 2*tw+1 of tile t = (n*TH+th)*TW+tw
// (TH = ceil(OH/2), TW = ceil(OW/2)), zero past OH, OW; xi = 4*i+j, E
// index (xi*P + t)*K + k, G' = [[2,0],[1,1],[1,-1],[0,2]] (see
// backend.WinogradDy, the matrices in backend/ref). One invocation per
// tile and channel, channels fastest. Buffers: dy[N*K*OH*OW], E[16*P*K],
// ym[N*K*OH*OW] (dy when MaskRelu == 0, unread). With MaskRelu dy is read
// masked as relu_bwd by the ReLU output ym (ym > 0 ? dy : 0).
// With K5 it is F(5x5,2x2)'s 6x2 G' instead (36 planes, xi = 6*i+j; storeE5).
// With WG_F4 (the winograd_dy4 modules, which the host runs for F4 = 1) it
// is F(3x3,4x4)'s 6x4 G' of the 4x4 tiles at rows 4*th.. and columns
// 4*tw.. (TH = ceil(OH/4), TW = ceil(OW/4); 36 planes; main4).
// With WG_VEC4 (winograd_dy_vec4_tx, on CPU devices for K % 4 == 0 and E
// at a multiple of four elements) one invocation transforms four channels
// k..k+3 of a tile as a vec4 and stores each element of E as one vec4:
// llvmpipe stores a vec4 for about the cost of one float.
#include "params.glsl"
#include "common.glsl"
#include "winograd_tiles.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { WinogradDyParams p; };
READ_BUFFER(0, Dy, dy);
#ifdef WG_VEC4
#define WG_T vec4
#define WG_LANES 4u
layout(std430, set = 0, binding = 1) writeonly restrict buffer Et { vec4 e_out[]; };
#else
#define WG_T float
#define WG_LANES 1u
layout(std430, set = 0, binding = 1) writeonly restrict buffer Et { float e_out[]; };
#endif
READ_BUFFER(2, Ym, ym);

#define MASKED_SRC dy
#include "relu_masked.glsl"

// dyAt is element i of dy (masked), with WG_VEC4 that of channel k and
// those of the three channels after it.
WG_T dyAt(bool inside, uint i) {
#ifdef WG_VEC4
    uint s = p.OH * p.OW;
    return vec4(masked(inside, i), masked(inside, i + s), masked(inside, i + 2u * s),
                masked(inside, i + 3u * s));
#else
    return masked(inside, i);
#endif
}

// dyTile is the 2x2 tile of dy[n][k] of tile t (masked; zero past OH, OW).
void dyTile(WgTiles g, uint t, uint k, out WG_T e[2][2]) {
    uint n, oy, ox;
    wgTileOrigin(g, t, n, oy, ox);
    uint base = ((n * p.K + k) * p.OH + oy) * p.OW + ox;
    for (uint a = 0u; a < 2u; a++) {
        for (uint b = 0u; b < 2u; b++) {
            bool inside = oy + a < p.OH && ox + b < p.OW;
            e[a][b] = dyAt(inside, base + a * p.OW + b);
        }
    }
}

// o = G' (e0, e1) of F(5x5,2x2), G' = [[6,0],[-4,-4],[-4,4],[1,2],[1,-2],[0,24]].
void wgGd5(WG_T e0, WG_T e1, out WG_T o[6]) {
    o[0] = 6.0 * e0;
    o[1] = -4.0 * (e0 + e1);
    o[2] = 4.0 * (e1 - e0);
    o[3] = e0 + 2.0 * e1;
    o[4] = e0 - 2.0 * e1;
    o[5] = 24.0 * e1;
}

// storeE5 stores F(5x5,2x2)'s E[xi] = (G' e G'^T)[xi] of tile element o.
void storeE5(uint o, uint plane, WG_T e[2][2]) {
    WG_T u0[6], u1[6]; // columns 0 and 1 of G' e
    wgGd5(e[0][0], e[1][0], u0);
    wgGd5(e[0][1], e[1][1], u1);
    for (uint i = 0u; i < 6u; i++) { // (G' e) G'^T
        WG_T row[6];
        wgGd5(u0[i], u1[i], row);
        for (uint j = 0u; j < 6u; j++) {
            e_out[o + (6u * i + j) * plane] = row[j];
        }
    }
}

// storeE3 stores F(3x3,2x2)'s E[xi] = (G' e G'^T)[xi] of tile element o.
void storeE3(uint o, uint plane, WG_T e[2][2]) {
    WG_T u[4][2]; // G' e
    for (int b = 0; b < 2; b++) {
        u[0][b] = 2.0 * e[0][b];
        u[1][b] = e[0][b] + e[1][b];
        u[2][b] = e[0][b] - e[1][b];
        u[3][b] = 2.0 * e[1][b];
    }
    for (uint i = 0u; i < 4u; i++) { // (G' e) G'^T
        e_out[o + (4u * i) * plane] = 2.0 * u[i][0];
        e_out[o + (4u * i + 1u) * plane] = u[i][0] + u[i][1];
        e_out[o + (4u * i + 2u) * plane] = u[i][0] - u[i][1];
        e_out[o + (4u * i + 3u) * plane] = 2.0 * u[i][1];
    }
}

#ifdef WG_F4
// o = G' (e0..e3) of F(3x3,4x4), G' = [[6,0,0,0],[-4,-4,-4,-4],[-4,4,-4,4],
// [1,2,4,8],[1,-2,4,-8],[0,0,0,24]].
void wgGd4(WG_T e0, WG_T e1, WG_T e2, WG_T e3, out WG_T o[6]) {
    WG_T s02 = e0 + e2, s13 = e1 + e3;
    o[0] = 6.0 * e0;
    o[1] = -4.0 * (s02 + s13);
    o[2] = 4.0 * (s13 - s02);
    o[3] = e0 + 4.0 * e2 + 2.0 * (e1 + 4.0 * e3);
    o[4] = e0 + 4.0 * e2 - 2.0 * (e1 + 4.0 * e3);
    o[5] = 24.0 * e3;
}

// F(3x3,4x4): E[xi][t][k] = (G' e G'^T)[xi] of the 4x4 tile e of dy[n][k]
// at rows 4*th.. and columns 4*tw.. (masked; zero past OH, OW).
void main4() {
    WgTiles g = wgTiles(p.N, p.OH, p.OW, 4u);
    uint plane = g.count * p.K / WG_LANES;
    for (uint o = gridIndex(); o < plane; o += gridStride()) {
        uint ok = o * WG_LANES, k = ok % p.K;
        uint n, oy, ox;
        wgTileOrigin(g, ok / p.K, n, oy, ox);
        uint base = ((n * p.K + k) * p.OH + oy) * p.OW + ox;
        WG_T u[6][4]; // G' e
        for (uint b = 0u; b < 4u; b++) {
            WG_T c[4];
            for (uint a = 0u; a < 4u; a++) {
                c[a] = dyAt(oy + a < p.OH && ox + b < p.OW, base + a * p.OW + b);
            }
            WG_T tr[6];
            wgGd4(c[0], c[1], c[2], c[3], tr);
            for (uint i = 0u; i < 6u; i++) {
                u[i][b] = tr[i];
            }
        }
        for (uint i = 0u; i < 6u; i++) { // (G' e) G'^T
            WG_T row[6];
            wgGd4(u[i][0], u[i][1], u[i][2], u[i][3], row);
            for (uint j = 0u; j < 6u; j++) {
                e_out[o + (6u * i + j) * plane] = row[j];
            }
        }
    }
}
#endif

void main() {
#ifdef WG_F4
    main4();
#else
    WgTiles g = wgTiles(p.N, p.OH, p.OW, 2u);
    uint plane = g.count * p.K / WG_LANES;
    for (uint o = gridIndex(); o < plane; o += gridStride()) {
        WG_T e[2][2];
        uint ok = o * WG_LANES;
        dyTile(g, ok / p.K, ok % p.K, e);
        if (p.K5 != 0u) {
            storeE5(o, plane, e);
        } else {
            storeE3(o, plane, e);
        }
    }
#endif
}
