// winograd_output: the 2x2 tile A^T m A of m = M[.][k][t] (plus b[k] when
// Bias != 0, then clamped as relu_fwd when Relu != 0) goes to y[n][k] at
// rows 2*th.. and columns 2*tw.. of tile t, the rows and columns past OH, OW
// left out (see backend.WinogradOutput, the matrices in
// backend/ref/winograd.go). One invocation per channel and
// tile, tiles fastest. Buffers: M[16*K*P], b[K] (unread without Bias),
// y[N*K*OH*OW].
// With K5 m has F(2x2,5x5)'s 36 points and A^T is its 2x6 matrix (main5);
// with F4 F(4x4,3x3)'s 36 points, A^T its 4x6 matrix and the tiles 4x4
// (main4, the whole of the winograd_output4 modules, built with WG_F4).
#include "params.glsl"
#include "common.glsl"
#include "winograd_tiles.glsl"
#include "winograd5.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { WinogradOutputParams p; };
READ_BUFFER(0, Mt, m);
READ_BUFFER(1, B, b);
layout(std430, set = 0, binding = 2) writeonly restrict buffer Y { float y[]; };

// The store, clamped as relu_fwd (v > 0 ? v : 0) when Relu != 0.
float store(float v) {
    return (p.Relu != 0u && !(v > 0.0)) ? 0.0 : v;
}

// mColumn is column j of the 6x6 product tile of element o: col[i] =
// M[6*i+j] at o, the planes plane elements apart.
void mColumn(uint o, uint j, uint plane, out float col[6]) {
    for (uint i = 0u; i < 6u; i++) {
        col[i] = LOAD(m, o + (6u * i + j) * plane);
    }
}

// storeTile stores bias + v, the 2x2 output tile t of channel k, the rows
// and columns past OH, OW left out.
void storeTile(WgTiles g, uint t, uint k, float bias, float v[2][2]) {
    uint n, oy, ox;
    wgTileOrigin(g, t, n, oy, ox);
    uint yo = ((n * p.K + k) * p.OH + oy) * p.OW + ox;
    for (uint i = 0u; i < 2u && oy + i < p.OH; i++) {
        y[yo + i * p.OW] = store(bias + v[i][0]);
        if (ox + 1u < p.OW) {
            y[yo + i * p.OW + 1u] = store(bias + v[i][1]);
        }
    }
}

// F(2x2,5x5): the 2x2 tile A^T m A of m = M[.][k][t], xi = 6*i+j.
void main5() {
    WgTiles g = wgTiles(p.N, p.OH, p.OW, 2u);
    uint plane = p.K * g.count;
    for (uint o = gridIndex(); o < plane; o += gridStride()) {
        uint t = o % g.count, k = o / g.count;
        float e[2][6]; // A^T m
        for (uint j = 0u; j < 6u; j++) {
            float col[6], tr[2];
            mColumn(o, j, plane, col);
            wgAt6(col, tr);
            e[0][j] = tr[0];
            e[1][j] = tr[1];
        }
        float v[2][2]; // (A^T m) A
        wgAt6(e[0], v[0]);
        wgAt6(e[1], v[1]);
        storeTile(g, t, k, p.Bias != 0u ? LOAD(b, k) : 0.0, v);
    }
}

#ifdef WG_F4
// F(4x4,3x3): the 4x4 tile A^T m A of m = M[.][k][t], xi = 6*i+j, plus
// the bias, the rows and columns past OH, OW left out.
void main4() {
    WgTiles g = wgTiles(p.N, p.OH, p.OW, 4u);
    uint plane = p.K * g.count;
    for (uint o = gridIndex(); o < plane; o += gridStride()) {
        uint t = o % g.count, k = o / g.count;
        float e[4][6]; // A^T m
        for (uint j = 0u; j < 6u; j++) {
            float col[6], tr[4];
            mColumn(o, j, plane, col);
            wgAt4(col, tr);
            for (uint i = 0u; i < 4u; i++) {
                e[i][j] = tr[i];
            }
        }
        float bias = p.Bias != 0u ? LOAD(b, k) : 0.0;
        uint n, oy, ox;
        wgTileOrigin(g, t, n, oy, ox);
        uint yo = ((n * p.K + k) * p.OH + oy) * p.OW + ox;
        for (uint i = 0u; i < 4u && oy + i < p.OH; i++) { // (A^T m) A
            float v[4];
            wgAt4(e[i], v);
            for (uint j = 0u; j < 4u && ox + j < p.OW; j++) {
                y[yo + i * p.OW + j] = store(bias + v[j]);
            }
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
    WgTiles g = wgTiles(p.N, p.OH, p.OW, 2u);
    uint plane = p.K * g.count;
    for (uint o = gridIndex(); o < plane; o += gridStride()) {
        uint t = o % g.count, k = o / g.count;
        float e[2][4]; // A^T m
        for (uint j = 0u; j < 4u; j++) {
            float m0 = LOAD(m, o + j * plane), m1 = LOAD(m, o + (4u + j) * plane);
            float m2 = LOAD(m, o + (8u + j) * plane), m3 = LOAD(m, o + (12u + j) * plane);
            e[0][j] = m0 + m1 + m2;
            e[1][j] = m1 - m2 - m3;
        }
        float v[2][2]; // (A^T m) A
        for (uint i = 0u; i < 2u; i++) {
            v[i][0] = e[i][0] + e[i][1] + e[i][2];
            v[i][1] = e[i][1] - e[i][2] - e[i][3];
        }
        storeTile(g, t, k, p.Bias != 0u ? LOAD(b, k) : 0.0, v);
    }
#endif
}
