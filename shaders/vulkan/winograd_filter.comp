// winograd_filter: U[xi][k][c] = (G g G^T)[xi] of g = w[k][c]; with BwdData
// U[xi][c][k] of the rotated g[r][s] = w[k][c][2-r][2-s] (see
// backend.WinogradFilter, the matrices in backend/ref/winograd.go). One
// invocation per filter, c fastest. Buffers: w[K*C*9], U[16*K*C].
#version 450
#extension GL_GOOGLE_include_directive : require
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { WinogradFilterParams p; };
layout(std430, set = 0, binding = 0) readonly restrict buffer Wt { float w[]; };
layout(std430, set = 0, binding = 1) writeonly restrict buffer U { float u[]; };

void main() {
    uint total = p.K * p.C;
    for (uint o = gridIndex(); o < total; o += gridStride()) {
        uint c = o % p.C, k = o / p.C;
        uint base = o * 9u;
        float g[3][3];
        for (uint r = 0u; r < 3u; r++) {
            for (uint s = 0u; s < 3u; s++) {
                g[r][s] = p.BwdData != 0u ? w[base + (2u - r) * 3u + (2u - s)] : w[base + r * 3u + s];
            }
        }
        float e[4][3]; // G g
        for (uint s = 0u; s < 3u; s++) {
            e[0][s] = g[0][s];
            e[1][s] = 0.5 * (g[0][s] + g[1][s] + g[2][s]);
            e[2][s] = 0.5 * (g[0][s] - g[1][s] + g[2][s]);
            e[3][s] = g[2][s];
        }
        uint plane = p.K * p.C;
        uint uo = p.BwdData != 0u ? c * p.K + k : o;
        for (uint i = 0u; i < 4u; i++) { // (G g) G^T
            u[uo + (4u * i) * plane] = e[i][0];
            u[uo + (4u * i + 1u) * plane] = 0.5 * (e[i][0] + e[i][1] + e[i][2]);
            u[uo + (4u * i + 2u) * plane] = 0.5 * (e[i][0] - e[i][1] + e[i][2]);
            u[uo + (4u * i + 3u) * plane] = e[i][2];
        }
    }
}
