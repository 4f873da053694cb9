// peak_fma: the FMA ceiling of crossgrad bench, outside the closed kernel
// list (backend/vulkan/peak.go, backend.Peaker). Every element i < N runs 8
// independent vec4 chains x = fma(x, A, B), 4 times each per round, for
// Iters rounds, and stores the sum of its chains (so nothing is dead code):
// 2 * 4 * 8 * 4 = 256 FLOPs per element and round. With A = 0.999 and
// B = 0.001 the chains converge to 1: no overflow, no denormals.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { uint N; uint Iters; float A; float B; } p;
layout(std430, set = 0, binding = 0) writeonly restrict buffer Out { float outv[]; };

#define STEP8 \
    x0 = fma(x0, a, b); x1 = fma(x1, a, b); x2 = fma(x2, a, b); x3 = fma(x3, a, b); \
    x4 = fma(x4, a, b); x5 = fma(x5, a, b); x6 = fma(x6, a, b); x7 = fma(x7, a, b);

void main() {
    vec4 a = vec4(p.A), b = vec4(p.B);
    for (uint i = gridIndex(); i < p.N; i += gridStride()) {
        vec4 s = vec4(float(i & 255u) * (1.0 / 256.0));
        vec4 x0 = s, x1 = s + 0.1, x2 = s + 0.2, x3 = s + 0.3;
        vec4 x4 = s + 0.4, x5 = s + 0.5, x6 = s + 0.6, x7 = s + 0.7;
        for (uint it = 0u; it < p.Iters; it++) {
            STEP8 STEP8 STEP8 STEP8
        }
        vec4 t = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7));
        outv[i] = (t.x + t.y) + (t.z + t.w);
    }
}
