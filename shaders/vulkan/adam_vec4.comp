// adam_vec4: adam.comp four elements at a time, through vec4 loads and
// stores (llvmpipe loads and stores a storage buffer one SIMD lane at a
// time; a vec4 costs one such loop where four floats cost four). The host
// runs it on CPU devices when every binding starts at a multiple of four
// elements. The same precise expressions per component: bit for bit the
// reference backend's result, as adam.comp. Elements past the last whole
// vec4 (N % 4 of them) go to the first invocations, one each. Buffers:
// p[N], g[N], m[N], v[N].
#version 450
#extension GL_GOOGLE_include_directive : require
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { AdamParams p; };
layout(std430, set = 0, binding = 0) buffer P { vec4 param[]; };
layout(std430, set = 0, binding = 1) readonly buffer G { vec4 grad[]; };
layout(std430, set = 0, binding = 2) buffer M { vec4 m1[]; };
layout(std430, set = 0, binding = 3) buffer V { vec4 m2[]; };

void main() {
    float b1 = p.OneMinusBeta1;
    float b2 = p.OneMinusBeta2;
    uint n4 = p.N / 4u;
    for (uint i = gridIndex(); i < n4; i += gridStride()) {
        vec4 g = grad[i];
        precise vec4 m = m1[i];
        m = m + b1 * (g - m);
        precise vec4 v = p.Beta2 * m2[i] + b2 * (g * g);
        m1[i] = m;
        m2[i] = v;
        precise vec4 q = param[i] - (p.StepSize * m) / (sqrt(v) / p.BC2Sqrt + p.Eps);
        param[i] = q;
    }
    uint c = gridIndex();
    if (c < p.N - 4u * n4) {
        float g = grad[n4][c];
        precise float m = m1[n4][c];
        m = m + b1 * (g - m);
        precise float v = p.Beta2 * m2[n4][c] + b2 * (g * g);
        m1[n4][c] = m;
        m2[n4][c] = v;
        precise float q = param[n4][c] - (p.StepSize * m) / (sqrt(v) / p.BC2Sqrt + p.Eps);
        param[n4][c] = q;
    }
}
