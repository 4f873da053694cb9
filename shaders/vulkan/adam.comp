// adam: one torch.optim.Adam step (see backend.Adam):
//   m += OneMinusBeta1*(g-m); v = Beta2*v + OneMinusBeta2*g*g
//   p -= StepSize * m / (sqrt(v)/BC2Sqrt + Eps)
// Buffers: p[N], g[N], m[N], v[N].
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
        float m = m1[i];
        m = m + b1 * (g - m);
        float v = p.Beta2 * m2[i] + b2 * (g * g);
        m1[i] = m;
        m2[i] = v;
        param[i] = param[i] - p.StepSize * m / (sqrt(v) / p.BC2Sqrt + p.Eps);
    }
}
