// winograd_dw: block q = a*BS+b (BS = ceil(S/3)) of dw[k][c], rows 3a..
// and columns 3b.. inside R x S, = A'^T m A' (3x3) of m[xi] =
// M[xi][q*C+c][k] (index (xi*Q*C + q*C + c)*K + k), A'^T =
// [[1,1,1,0],[0,1,-1,0],[0,1,1,-1]] / 2, and db[k] = sum over tiles t < P
// of E[5][t][k] (index (5*P + t)*K + k), summed in t order; both
// overwritten (see backend.WinogradDw, the matrices in backend/ref). One
// invocation per block of a channel pair, k fastest; the invocations of
// row 0 also sum db[k]. Buffers: M[16*Q*C*K], E[16*P*K], dw[K*C*R*S],
// db[K].
// With K5 it is F(5x5,2x2)'s 5x6 A'^T and db from E[7] / 16 instead (main5);
// with WG_F4 (the winograd_dw4 modules, which the host runs for F4 = 1)
// F(3x3,4x4)'s 3x6 A'^T of each 3x3 block, db from E[7] / 16 (main4).
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { WinogradDwParams p; };
READ_BUFFER(0, Mt, m);
READ_BUFFER(1, Et, e);
layout(std430, set = 0, binding = 2) writeonly restrict buffer Dw { float dw[]; };
layout(std430, set = 0, binding = 3) writeonly restrict buffer Db { float db[]; };

// o = A'^T m of F(5x5,2x2), without its 1/24.
void wgAtd5(in float v[6], out float o[5]) {
    o[0] = v[0] + v[1] + v[2] + v[3] + v[4];
    o[1] = v[1] - v[2] + 2.0 * (v[3] - v[4]);
    o[2] = v[1] + v[2] + 4.0 * (v[3] + v[4]);
    o[3] = v[1] - v[2] + 8.0 * (v[3] - v[4]);
    o[4] = v[1] + v[2] + 16.0 * (v[3] + v[4]) + v[5];
}

// mColumn is column j of the 6x6 product tile of element o: col[i] =
// M[6*i+j] at o, the planes plane elements apart.
void mColumn(uint o, uint j, uint plane, out float col[6]) {
    for (uint i = 0u; i < 6u; i++) {
        col[i] = LOAD(m, o + (6u * i + j) * plane);
    }
}

// sumE7 is db[k] of F(5x5,2x2) and F(3x3,4x4): the sum over the tiles t
// (in t order) of E[7][t][k] / 16.
float sumE7(uint k) {
    uint eo = 7u * p.P * p.K + k;
    float s = 0.0;
    for (uint t = 0u; t < p.P; t++) {
        s += LOAD(e, eo + t * p.K);
    }
    return s * 0.0625;
}

// F(5x5,2x2): dw[k][c] = A'^T m A' / 576 of m[xi] = M[xi][c][k], db[k] = sum
// over t of E[7][t][k] / 16.
void main5() {
    uint total = p.K * p.C;
    uint plane = total;
    for (uint o = gridIndex(); o < total; o += gridStride()) {
        uint k = o % p.K, c = o / p.K;
        float f[5][6]; // A'^T m
        for (uint j = 0u; j < 6u; j++) {
            float col[6], tr[5];
            mColumn(o, j, plane, col);
            wgAtd5(col, tr);
            for (uint r = 0u; r < 5u; r++) {
                f[r][j] = tr[r];
            }
        }
        uint wo = (k * p.C + c) * 25u;
        for (uint r = 0u; r < 5u; r++) { // (A'^T m) A'
            float row[5];
            wgAtd5(f[r], row);
            for (uint s = 0u; s < 5u; s++) {
                dw[wo + r * 5u + s] = row[s] * (1.0 / 576.0);
            }
        }
        if (c == 0u) {
            db[k] = sumE7(k);
        }
    }
}

#ifdef WG_F4
// o = A'^T m of F(3x3,4x4), without its 1/24.
void wgAtd4(in float v[6], out float o[3]) {
    float s12 = v[1] + v[2], s34 = v[3] + v[4];
    o[0] = v[0] + s12 + s34;
    o[1] = v[1] - v[2] + 2.0 * (v[3] - v[4]);
    o[2] = s12 + 4.0 * s34 + v[5];
}

// F(3x3,4x4): block q = a*BS+b of dw[k][c] (rows 3a.., columns 3b..
// inside R x S) = A'^T m A' / 576 of m[xi] = M[xi][q*C+c][k], db[k] = sum
// over t of E[7][t][k] / 16.
void main4() {
    uint bs = (p.S + 2u) / 3u, rows = (p.R + 2u) / 3u * bs * p.C;
    uint total = p.K * rows;
    uint plane = total;
    for (uint o = gridIndex(); o < total; o += gridStride()) {
        uint k = o % p.K, row = o / p.K;
        uint q = row / p.C, c = row % p.C;
        float f[3][6]; // A'^T m
        for (uint j = 0u; j < 6u; j++) {
            float col[6], tr[3];
            mColumn(o, j, plane, col);
            wgAtd4(col, tr);
            for (uint r = 0u; r < 3u; r++) {
                f[r][j] = tr[r];
            }
        }
        uint r0 = 3u * (q / bs), s0 = 3u * (q % bs);
        uint wo = (k * p.C + c) * p.R * p.S + r0 * p.S + s0;
        for (uint r = 0u; r < 3u && r0 + r < p.R; r++) { // (A'^T m) A'
            float o3[3];
            wgAtd4(f[r], o3);
            for (uint s = 0u; s < 3u && s0 + s < p.S; s++) {
                dw[wo + r * p.S + s] = o3[s] * (1.0 / 576.0);
            }
        }
        if (row == 0u) {
            db[k] = sumE7(k);
        }
    }
}
#endif

void main() {
#ifdef WG_F4
    main4();
#else
    if (p.K5 != 0u) {
        main5();
        return;
    }
    uint bs = (p.S + 2u) / 3u, rows = (p.R + 2u) / 3u * bs * p.C;
    uint total = p.K * rows;
    uint plane = total;
    for (uint o = gridIndex(); o < total; o += gridStride()) {
        uint k = o % p.K, row = o / p.K;
        uint q = row / p.C, c = row % p.C;
        float f[3][4]; // A'^T m, without the /2
        for (uint j = 0u; j < 4u; j++) {
            float m0 = LOAD(m, o + j * plane), m1 = LOAD(m, o + (4u + j) * plane);
            float m2 = LOAD(m, o + (8u + j) * plane), m3 = LOAD(m, o + (12u + j) * plane);
            f[0][j] = m0 + m1 + m2;
            f[1][j] = m1 - m2;
            f[2][j] = m1 + m2 - m3;
        }
        uint r0 = 3u * (q / bs), s0 = 3u * (q % bs);
        uint wo = (k * p.C + c) * p.R * p.S + r0 * p.S + s0;
        for (uint r = 0u; r < 3u && r0 + r < p.R; r++) { // (A'^T m) A', both /2 as one 0.25
            float o3[3] = float[3](0.25 * (f[r][0] + f[r][1] + f[r][2]), 0.25 * (f[r][1] - f[r][2]),
                                   0.25 * (f[r][1] + f[r][2] - f[r][3]));
            for (uint s = 0u; s < 3u && s0 + s < p.S; s++) {
                dw[wo + r * p.S + s] = o3[s];
            }
        }
        if (row == 0u) {
            uint eo = 5u * p.P * p.K + k;
            float s = 0.0;
            for (uint t = 0u; t < p.P; t++) {
                s += LOAD(e, eo + t * p.K);
            }
            db[k] = s;
        }
    }
#endif
}
