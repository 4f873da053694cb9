// winograd_output: the 2x2 tile A^T m A of m = M[.][k][t] (plus b[k] when
// Bias != 0, then clamped as relu_fwd when Relu != 0) goes to y[n][k] at
// rows 2*th.. and columns 2*tw.. of tile t, the rows and columns past OH, OW
// left out (see backend.WinogradOutput, the matrices in
// backend/ref/winograd.go). One invocation per channel and
// tile, tiles fastest. Buffers: M[16*K*P], b[K] (unread without Bias),
// y[N*K*OH*OW].
// With K5 m has F(2x2,5x5)'s 36 points and A^T is its 2x6 matrix (main5).
#include "params.glsl"
#include "common.glsl"
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

// F(2x2,5x5): the 2x2 tile A^T m A of m = M[.][k][t], xi = 6*i+j.
void main5() {
    uint th = (p.OH + 1u) / 2u, tw = (p.OW + 1u) / 2u;
    uint tiles = p.N * th * tw;
    uint total = tiles * p.K;
    uint plane = p.K * tiles;
    for (uint o = gridIndex(); o < total; o += gridStride()) {
        uint t = o % tiles, k = o / tiles;
        uint mo = k * tiles + t;
        float e[2][6]; // A^T m
        for (uint j = 0u; j < 6u; j++) {
            float col[6], tr[2];
            for (uint i = 0u; i < 6u; i++) {
                col[i] = LOAD(m, mo + (6u * i + j) * plane);
            }
            wgAt6(col, tr);
            e[0][j] = tr[0];
            e[1][j] = tr[1];
        }
        float bias = p.Bias != 0u ? LOAD(b, k) : 0.0;
        uint n = t / (th * tw), r = t % (th * tw);
        uint oy = 2u * (r / tw), ox = 2u * (r % tw);
        uint yo = ((n * p.K + k) * p.OH + oy) * p.OW + ox;
        for (uint i = 0u; i < 2u; i++) { // (A^T m) A
            if (oy + i >= p.OH) {
                break;
            }
            float row[2];
            wgAt6(e[i], row);
            y[yo + i * p.OW] = store(bias + row[0]);
            if (ox + 1u < p.OW) {
                y[yo + i * p.OW + 1u] = store(bias + row[1]);
            }
        }
    }
}

void main() {
    if (p.K5 != 0u) {
        main5();
        return;
    }
    uint th = (p.OH + 1u) / 2u, tw = (p.OW + 1u) / 2u;
    uint tiles = p.N * th * tw;
    uint total = tiles * p.K;
    uint plane = p.K * tiles;
    for (uint o = gridIndex(); o < total; o += gridStride()) {
        uint t = o % tiles, k = o / tiles;
        uint mo = k * tiles + t;
        float e[2][4]; // A^T m
        for (uint j = 0u; j < 4u; j++) {
            float m0 = LOAD(m, mo + j * plane), m1 = LOAD(m, mo + (4u + j) * plane);
            float m2 = LOAD(m, mo + (8u + j) * plane), m3 = LOAD(m, mo + (12u + j) * plane);
            e[0][j] = m0 + m1 + m2;
            e[1][j] = m1 - m2 - m3;
        }
        float bias = p.Bias != 0u ? LOAD(b, k) : 0.0;
        uint n = t / (th * tw), r = t % (th * tw);
        uint oy = 2u * (r / tw), ox = 2u * (r % tw);
        uint yo = ((n * p.K + k) * p.OH + oy) * p.OW + ox;
        for (uint i = 0u; i < 2u; i++) { // (A^T m) A
            if (oy + i >= p.OH) {
                break;
            }
            y[yo + i * p.OW] = store(bias + (e[i][0] + e[i][1] + e[i][2]));
            if (ox + 1u < p.OW) {
                y[yo + i * p.OW + 1u] = store(bias + (e[i][1] - e[i][2] - e[i][3]));
            }
        }
    }
}
