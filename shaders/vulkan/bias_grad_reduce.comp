// bias_grad_reduce (second pass of bias_grad): db[c] = sum over z of
// partial[z*Cols + c]. Buffers: partial[splits*Cols], db[Cols].
#version 450
#extension GL_GOOGLE_include_directive : require
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { BiasGradParams p; uint splits; };
layout(std430, set = 0, binding = 0) readonly buffer PART { float partial[]; };
layout(std430, set = 0, binding = 1) writeonly buffer DB { float db[]; };

void main() {
    for (uint c = gridIndex(); c < p.Cols; c += gridStride()) {
        float s = 0.0;
        for (uint z = 0u; z < splits; z++) {
            s += partial[z * p.Cols + c];
        }
        db[c] = s;
    }
}
