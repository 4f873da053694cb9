// dropout_bwd: dx = dy*Scale where element i was kept by the dropout_fwd
// with the same Seed, Step and P, else 0. Buffers: dy[N], dx[N].
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
// base is the element index of the window's first element within the
// dispatch: nonzero when the host splits a buffer larger than
// maxStorageBufferRange into windows. The RNG index is p.Offset+base+i.
layout(push_constant) uniform PC { DropoutBwdParams p; uint base; };
READ_BUFFER(0, DY, dy);
layout(std430, set = 0, binding = 1) writeonly buffer DX { float dx[]; };

void main() {
    for (uint i = gridIndex(); i < p.N; i += gridStride()) {
        float v = LOAD(dy, i);
        dx[i] = dropoutUniform(p.Seed, p.Step, p.Offset + base + i) >= p.P ? v * p.Scale : 0.0;
    }
}
