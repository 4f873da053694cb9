// winograd_dw: dw[k][c] = A'^T m A' (3x3) of m[xi] = M[xi][c][k] (index
// (xi*C + c)*K + k), A'^T = [[1,1,1,0],[0,1,-1,0],[0,1,1,-1]] / 2, and
// db[k] = sum over tiles t < P of E[5][t][k] (index (5*P + t)*K + k),
// summed in t order; both overwritten (see backend.WinogradDw, the
// matrices in backend/ref). One invocation per channel pair, k fastest;
// the invocations of c == 0 also sum db[k]. Buffers: M[16*C*K],
// E[16*P*K], dw[K*C*9], db[K].
#version 450
#extension GL_GOOGLE_include_directive : require
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { WinogradDwParams p; };
layout(std430, set = 0, binding = 0) readonly restrict buffer Mt { float m[]; };
layout(std430, set = 0, binding = 1) readonly restrict buffer Et { float e[]; };
layout(std430, set = 0, binding = 2) writeonly restrict buffer Dw { float dw[]; };
layout(std430, set = 0, binding = 3) writeonly restrict buffer Db { float db[]; };

void main() {
    uint total = p.K * p.C;
    uint plane = p.C * p.K;
    for (uint o = gridIndex(); o < total; o += gridStride()) {
        uint k = o % p.K, c = o / p.K;
        float f[3][4]; // A'^T m, without the /2
        for (uint j = 0u; j < 4u; j++) {
            float m0 = m[o + j * plane], m1 = m[o + (4u + j) * plane];
            float m2 = m[o + (8u + j) * plane], m3 = m[o + (12u + j) * plane];
            f[0][j] = m0 + m1 + m2;
            f[1][j] = m1 - m2;
            f[2][j] = m1 + m2 - m3;
        }
        uint wo = (k * p.C + c) * 9u;
        for (uint r = 0u; r < 3u; r++) { // (A'^T m) A', both /2 as one 0.25
            dw[wo + 3u * r] = 0.25 * (f[r][0] + f[r][1] + f[r][2]);
            dw[wo + 3u * r + 1u] = 0.25 * (f[r][1] - f[r][2]);
            dw[wo + 3u * r + 2u] = 0.25 * (f[r][1] + f[r][2] - f[r][3]);
        }
        if (c == 0u) {
            uint eo = 5u * p.P * p.K + k;
            float s = 0.0;
            for (uint t = 0u; t < p.P; t++) {
                s += e[eo + t * p.K];
            }
            db[k] = s;
        }
    }
}
