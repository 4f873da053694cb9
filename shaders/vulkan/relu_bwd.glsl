// relu_bwd: dx = dy where y > 0, else 0. Buffers: y[N], dy[N], dx[N]
// (dx may be dy).
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { ReluBwdParams p; };
READ_BUFFER(0, Yb, y);
READ_BUFFER(1, DY, dy);
layout(std430, set = 0, binding = 2) writeonly buffer DX { float dx[]; };

void main() {
    for (uint i = gridIndex(); i < p.N; i += gridStride()) {
        dx[i] = LOAD(y, i) > 0.0 ? LOAD(dy, i) : 0.0;
    }
}
