// bias_add: y[r][c] += b[c], clamped as relu_fwd when Relu != 0.
// Buffers: y[Rows*Cols], b[Cols].
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { BiasAddParams p; };
layout(std430, set = 0, binding = 0) restrict buffer Y { float y[]; };
READ_BUFFER(1, B, b);

void main() {
    uint n = p.Rows * p.Cols;
    for (uint i = gridIndex(); i < n; i += gridStride()) {
        float v = y[i] + LOAD(b, i % p.Cols);
        y[i] = (p.Relu != 0u && !(v > 0.0)) ? 0.0 : v;
    }
}
