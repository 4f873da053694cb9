// winograd_filter: U[xi][k][q*C+c] = (G g G^T)[xi] of kernel block q =
// a*BS+b (BS = ceil(S/3)), g[r][s] = w[k][c][3a+r][3b+s]; with BwdData
// U[xi][c][q*K+k] of the rotated g[r][s] = w[k][c][R-1-3a-r][S-1-3b-s];
// zero past the kernel (see backend.WinogradFilter, the matrices in
// backend/ref/winograd.go). One invocation per block of a filter, c
// fastest, then q. Buffers: w[K*C*R*S], U[16*Q*K*C].
// With K5 it is F(2x2,5x5)'s G (6x5) of the whole 5x5 filter (main5), with
// F4 F(4x4,3x3)'s G (6x3) of each 3x3 block into 36 planes (main4, the
// whole of the winograd_filter4 modules, built with WG_F4).
#include "params.glsl"
#include "common.glsl"
#include "winograd5.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { WinogradFilterParams p; };
READ_BUFFER(0, Wt, w);
layout(std430, set = 0, binding = 1) writeonly restrict buffer U { float u[]; };

// loadBlock sets the filter k, block q and channel c of invocation o
// (blocks blocks of which bs along S, c fastest, then q) and g, its 3x3
// block: w[k][c] at rows 3a.., columns 3b.. of q = a*BS+b (rotated by 180
// degrees with BwdData), zero past R, S.
void loadBlock(uint o, uint bs, uint blocks, out uint k, out uint q, out uint c, out float g[3][3]) {
    uint row = o % (blocks * p.C);
    k = o / (blocks * p.C);
    q = row / p.C;
    c = row % p.C;
    int R = int(p.R), S = int(p.S);
    int r0 = 3 * int(q / bs), s0 = 3 * int(q % bs);
    uint base = (k * p.C + c) * p.R * p.S;
    for (int r = 0; r < 3; r++) {
        for (int s = 0; s < 3; s++) {
            int kr = r0 + r, ks = s0 + s;
            g[r][s] = 0.0;
            if (kr < R && ks < S) {
                g[r][s] = p.BwdData != 0u ? LOAD(w, base + uint((R - 1 - kr) * S + (S - 1 - ks))) : LOAD(w, base + uint(kr * S + ks));
            }
        }
    }
}

// F(2x2,5x5): U[xi][k][c] (BwdData: U[xi][c][k]) = (G g G^T)[xi].
void main5() {
    uint total = p.K * p.C;
    for (uint o = gridIndex(); o < total; o += gridStride()) {
        uint c = o % p.C, k = o / p.C;
        uint base = (k * p.C + c) * 25u;
        float e[6][5]; // G g
        for (uint s = 0u; s < 5u; s++) {
            float col[5], tr[6];
            for (uint r = 0u; r < 5u; r++) {
                col[r] = p.BwdData != 0u ? LOAD(w, base + (4u - r) * 5u + (4u - s)) : LOAD(w, base + r * 5u + s);
            }
            wgG5(col, tr);
            for (int i = 0; i < 6; i++) {
                e[i][s] = tr[i];
            }
        }
        uint plane = p.K * p.C;
        uint uo = p.BwdData != 0u ? c * p.K + k : o;
        for (uint i = 0u; i < 6u; i++) { // (G g) G^T
            float row[6];
            wgG5(e[i], row);
            for (uint j = 0u; j < 6u; j++) {
                u[uo + (6u * i + j) * plane] = row[j];
            }
        }
    }
}

#ifdef WG_F4
// F(4x4,3x3): U[xi][k][q*C+c] (BwdData: U[xi][c][q*K+k]) = (G g G^T)[xi]
// of kernel block q = a*BS+b (g the 3x3 block at rows 3a.., columns 3b..,
// rotated with BwdData, zero past the kernel; one block for 3x3).
void main4() {
    uint bs = (p.S + 2u) / 3u, blocks = (p.R + 2u) / 3u * bs;
    uint total = p.K * blocks * p.C;
    for (uint o = gridIndex(); o < total; o += gridStride()) {
        uint k, q, c;
        float g[3][3];
        loadBlock(o, bs, blocks, k, q, c, g);
        float e[6][3]; // G g
        for (int s = 0; s < 3; s++) {
            float col[3], tr[6];
            for (int r = 0; r < 3; r++) {
                col[r] = g[r][s];
            }
            wgG3(col, tr);
            for (int i = 0; i < 6; i++) {
                e[i][s] = tr[i];
            }
        }
        uint plane = blocks * p.K * p.C;
        uint uo = p.BwdData != 0u ? (c * blocks + q) * p.K + k : o;
        for (uint i = 0u; i < 6u; i++) { // (G g) G^T
            float row6[6];
            wgG3(e[i], row6);
            for (uint j = 0u; j < 6u; j++) {
                u[uo + (6u * i + j) * plane] = row6[j];
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
    uint bs = (p.S + 2u) / 3u, blocks = (p.R + 2u) / 3u * bs;
    uint total = p.K * blocks * p.C;
    for (uint o = gridIndex(); o < total; o += gridStride()) {
        uint k, q, c;
        float g[3][3];
        loadBlock(o, bs, blocks, k, q, c, g);
        float e[4][3]; // G g
        for (uint s = 0u; s < 3u; s++) {
            e[0][s] = g[0][s];
            e[1][s] = 0.5 * (g[0][s] + g[1][s] + g[2][s]);
            e[2][s] = 0.5 * (g[0][s] - g[1][s] + g[2][s]);
            e[3][s] = g[2][s];
        }
        uint plane = blocks * p.K * p.C;
        uint uo = p.BwdData != 0u ? (c * blocks + q) * p.K + k : o;
        for (uint i = 0u; i < 4u; i++) { // (G g) G^T
            u[uo + (4u * i) * plane] = e[i][0];
            u[uo + (4u * i + 1u) * plane] = 0.5 * (e[i][0] + e[i][1] + e[i][2]);
            u[uo + (4u * i + 2u) * plane] = 0.5 * (e[i][0] - e[i][1] + e[i][2]);
            u[uo + (4u * i + 3u) * plane] = e[i][2];
        }
    }
#endif
}
