// gemm: C = Alpha*op(A)*op(B) + Beta*C over row-major matrices; op(A) is
// M x K (A stored K x M when TransA != 0), op(B) is K x N (B stored N x K
// when TransB != 0). C is not read when Beta == 0. With Batch > 1, layer z
// of work-groups (gl_WorkGroupID.z) computes product z, whose operands
// start at z*M*K, z*K*N and z*M*N. Buffers: A[Batch*M*K], B[Batch*K*N],
// C[Batch*M*N]. Tiling: gemm_tile.glsl.
#include "params.glsl"
#include "common.glsl"
#include "gemm_tile_spec.glsl"

layout(push_constant) uniform PC { GemmParams p; };
#ifdef TILE_TEXEL
// A and B as uniform texel buffers (the <kernel>_tx modules, configuration
// tx=1): CPU drivers fetch texels with vector gathers where they load
// storage buffers one lane at a time.
layout(set = 0, binding = 0) uniform samplerBuffer ta;
layout(set = 0, binding = 1) uniform samplerBuffer tb;
#else
layout(std430, set = 0, binding = 0) readonly restrict buffer A { float a[]; };
layout(std430, set = 0, binding = 0) readonly restrict buffer A4 { vec4 a4[]; };
layout(std430, set = 0, binding = 1) readonly restrict buffer B { float b[]; };
// A and B as vec4s, for the direct path's 4-wide loads (VW = 4, which the
// host allows only where the loads are aligned: see DIRECT_STEP4).
layout(std430, set = 0, binding = 1) readonly restrict buffer B4 { vec4 b4[]; };
#endif
layout(std430, set = 0, binding = 2) restrict buffer C { float c[]; };

// Offsets of the work-group's product in A, B and C.
uint baseA() { return gl_WorkGroupID.z * p.M * p.K; }
uint baseB() { return gl_WorkGroupID.z * p.K * p.N; }
uint baseC() { return gl_WorkGroupID.z * p.M * p.N; }

#ifdef TILE_TEXEL
// With VW = 4 the views have four floats per texel (R32G32B32A32_SFLOAT,
// each operand's size a multiple of 4), else one (R32_SFLOAT).
float fetchA(uint i) {
    return VW == 4u ? texelFetch(ta, int(i >> 2u))[i & 3u] : texelFetch(ta, int(i)).x;
}

float fetchB(uint i) {
    return VW == 4u ? texelFetch(tb, int(i >> 2u))[i & 3u] : texelFetch(tb, int(i)).x;
}

float loadA(uint m, uint k) {
    return fetchA(baseA() + (p.TransA != 0u ? k * p.M + m : m * p.K + k));
}

float loadB(uint k, uint n) {
    return fetchB(baseB() + (p.TransB != 0u ? n * p.K + k : k * p.N + n));
}

#define TILE_LOADB4 1
vec4 loadA4(uint m, uint k) {
    return texelFetch(ta, int((baseA() + m * p.K + k) >> 2u));
}

vec4 loadB4(uint k, uint n) {
    return texelFetch(tb, int((baseB() + k * p.N + n) >> 2u));
}

vec4 loadA4M(uint m, uint k) {
    return texelFetch(ta, int((baseA() + k * p.M + m) >> 2u));
}

vec4 loadB4K(uint k, uint n) {
    return texelFetch(tb, int((baseB() + n * p.K + k) >> 2u));
}
#else
float loadA(uint m, uint k) {
    return a[baseA() + (p.TransA != 0u ? k * p.M + m : m * p.K + k)]; // one load, the index selected
}

float loadB(uint k, uint n) {
    return b[baseB() + (p.TransB != 0u ? n * p.K + k : k * p.N + n)];
}

#define TILE_LOADB4 1
// loadA4 is A elements (m, k..k+3) for TransA == 0, k % 4 == 0 (and so
// M*K % 4 == 0: every product starts at a vec4).
vec4 loadA4(uint m, uint k) {
    return a4[(baseA() + m * p.K + k) / 4u];
}

// loadB4 is B elements (k, n..n+3) for TransB == 0, n % 4 == 0.
vec4 loadB4(uint k, uint n) {
    return b4[(baseB() + k * p.N + n) / 4u];
}

// loadA4M is A elements (m..m+3, k) for TransA != 0, m % 4 == 0, M % 4 == 0.
vec4 loadA4M(uint m, uint k) {
    return a4[(baseA() + k * p.M + m) / 4u];
}

// loadB4K is B elements (k..k+3, n) for TransB != 0, k % 4 == 0, K % 4 == 0.
vec4 loadB4K(uint k, uint n) {
    return b4[(baseB() + n * p.K + k) / 4u];
}
#endif

void storeC(uint m, uint n, float v) {
    uint i = baseC() + m * p.N + n;
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
