// relu_fwd: y = max(x, 0). Buffers: x[N], y[N] (may be the same buffer).
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { ReluFwdParams p; };
READ_BUFFER(0, X, x);
layout(std430, set = 0, binding = 1) writeonly buffer Y { float y[]; };

void main() {
    for (uint i = gridIndex(); i < p.N; i += gridStride()) {
        float v = LOAD(x, i);
        y[i] = v > 0.0 ? v : 0.0;
    }
}
