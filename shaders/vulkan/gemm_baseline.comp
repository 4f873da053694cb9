// gemm_baseline: the textbook 16x16 shared-memory tiled SGEMM (one output
// per invocation, no register blocking), C = A*B for row-major A[M][K],
// B[K][N], C[M][N] (TransA = TransB = 0, Alpha = 1, Beta = 0 only). Used by
// the benchmarks as the baseline the tiled gemm is compared with.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "params.glsl"

layout(local_size_x = 16, local_size_y = 16) in;
layout(push_constant) uniform PC { GemmParams p; };
layout(std430, set = 0, binding = 0) readonly restrict buffer A { float a[]; };
layout(std430, set = 0, binding = 1) readonly restrict buffer B { float b[]; };
layout(std430, set = 0, binding = 2) writeonly restrict buffer C { float c[]; };

shared float As[16][16];
shared float Bs[16][16];

void main() {
    uint tx = gl_LocalInvocationID.x;
    uint ty = gl_LocalInvocationID.y;
    uint row = gl_WorkGroupID.y * 16u + ty;
    uint col = gl_WorkGroupID.x * 16u + tx;
    float acc = 0.0;
    for (uint k0 = 0u; k0 < p.K; k0 += 16u) {
        float av = 0.0;
        float bv = 0.0;
        if (row < p.M && k0 + tx < p.K) {
            av = a[row * p.K + k0 + tx];
        }
        if (col < p.N && k0 + ty < p.K) {
            bv = b[(k0 + ty) * p.N + col];
        }
        As[ty][tx] = av;
        Bs[ty][tx] = bv;
        barrier();
        for (uint k = 0u; k < 16u; k++) {
            acc += As[ty][k] * Bs[k][tx];
        }
        barrier();
    }
    if (row < p.M && col < p.N) {
        c[row * p.N + col] = acc;
    }
}
