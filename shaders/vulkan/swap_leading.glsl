// swap_leading (a pass of conv2d_bwd_filter's forward form, fwd=1): out[b][a][p]
// = in[a][b][p] for a < A, b < B, p < P, in read masked as relu_bwd by ym
// (ym > 0 ? in : 0) when Mask != 0, and with Ones != 0 a last row
// out[B][a][p] = 1. Buffers: in[A*B*P], out[(B+Ones)*A*P], ym[A*B*P] (in,
// unread, without Mask).
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { uint A; uint B; uint P; uint Ones; uint Mask; };
READ_BUFFER(0, In, src);
layout(std430, set = 0, binding = 1) writeonly restrict buffer Out { float dst[]; };
READ_BUFFER(2, Ym, ym);

void main() {
    uint ap = A * P;
    uint n = (B + Ones) * ap;
    for (uint o = gridIndex(); o < n; o += gridStride()) {
        uint b = o / ap, r = o - b * ap;
        uint a = r / P, q = r - a * P;
        if (b >= B) {
            dst[o] = 1.0;
            continue;
        }
        uint i = (a * B + b) * P + q;
        float v = LOAD(src, i);
        dst[o] = (Mask != 0u && !(LOAD(ym, i) > 0.0)) ? 0.0 : v;
    }
}
