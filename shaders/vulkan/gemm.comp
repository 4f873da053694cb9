// gemm: C = Alpha*op(A)*op(B) + Beta*C over row-major matrices; op(A) is
// M x K (A stored K x M when TransA != 0), op(B) is K x N (B stored N x K
// when TransB != 0). C is not read when Beta == 0. Buffers: A[M*K], B[K*N],
// C[M*N]. Tiling: gemm_tile.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "params.glsl"
#include "common.glsl"

layout(push_constant) uniform PC { GemmParams p; };
layout(std430, set = 0, binding = 0) readonly restrict buffer A { float a[]; };
layout(std430, set = 0, binding = 1) readonly restrict buffer B { float b[]; };
layout(std430, set = 0, binding = 2) restrict buffer C { float c[]; };

float loadA(uint m, uint k) {
    return p.TransA != 0u ? a[k * p.M + m] : a[m * p.K + k];
}

float loadB(uint k, uint n) {
    return p.TransB != 0u ? b[n * p.K + k] : b[k * p.N + n];
}

void storeC(uint m, uint n, float v) {
    uint i = m * p.N + n;
    float r = p.Alpha * v;
    if (p.Beta != 0.0) {
        r += p.Beta * c[i];
    }
    c[i] = r;
}

#include "gemm_tile.glsl"

void main() {
    gemmTile(p.M, p.N, 0u, p.K, p.TransA == 0u, p.TransB == 0u);
}
