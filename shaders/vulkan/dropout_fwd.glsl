// dropout_fwd: y = x*Scale where element i is kept (dropoutUniform >= P),
// else 0. Buffers: x[N], y[N] (may be the same buffer).
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
// base is the element index of the window's first element within the
// dispatch: nonzero when the host splits a buffer larger than
// maxStorageBufferRange into windows. The RNG index is p.Offset+base+i.
layout(push_constant) uniform PC { DropoutFwdParams p; uint base; };
READ_BUFFER(0, X, x);
layout(std430, set = 0, binding = 1) writeonly buffer Y { float y[]; };

void main() {
    for (uint i = gridIndex(); i < p.N; i += gridStride()) {
        float v = LOAD(x, i);
        y[i] = dropoutUniform(p.Seed, p.Step, p.Offset + base + i) >= p.P ? v * p.Scale : 0.0;
    }
}
