// adam: one torch.optim.Adam step (see backend.Adam):
//   m += OneMinusBeta1*(g-m); v = Beta2*v + OneMinusBeta2*g*g
//   p -= StepSize * m / (sqrt(v)/BC2Sqrt + Eps)
// Buffers: p[N], g[N], m[N], v[N]. Every expression is precise (SPIR-V
// NoContraction: no fused multiply-add), so with IEEE division and sqrt the
// result is the reference backend's bit for bit.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { AdamParams p; };
layout(std430, set = 0, binding = 0) buffer P { float param[]; };
layout(std430, set = 0, binding = 1) readonly buffer G { float grad[]; };
layout(std430, set = 0, binding = 2) buffer M { float m1[]; };
layout(std430, set = 0, binding = 3) buffer V { float m2[]; };

void main() {
    float b1 = p.OneMinusBeta1;
    float b2 = p.OneMinusBeta2;
    for (uint i = gridIndex(); i < p.N; i += gridStride()) {
        float g = grad[i];
        precise float m = m1[i];
        m = m + b1 * (g - m);
        precise float v = p.Beta2 * m2[i] + b2 * (g * g);
        m1[i] = m;
        m2[i] = v;
        precise float q = param[i] - (p.StepSize * m) / (sqrt(v) / p.BC2Sqrt + p.Eps);
        param[i] = q;
    }
}
