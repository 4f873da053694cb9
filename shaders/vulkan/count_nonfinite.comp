// count_nonfinite: out[Slot] = number of NaN and infinite values among
// x[0..N), as float. One work-group: invocation t counts elements t, t+WG,
// ... (an exponent field of all ones is NaN or Inf: a bit test that no
// floating-point optimisation can remove), and the counts are summed in
// shared memory (the work-group size is a power of two). Integer sums: the
// result does not depend on the work-group size.
// Buffers: x[N], out[Slot+1].
#version 450
#extension GL_GOOGLE_include_directive : require
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
// accumulate is nonzero for the windows after the first when the host
// splits an x larger than maxStorageBufferRange: they add to out[Slot].
layout(push_constant) uniform PC { CountNonfiniteParams p; uint accumulate; };
layout(std430, set = 0, binding = 0) readonly restrict buffer X { float x[]; };
layout(std430, set = 0, binding = 1) restrict buffer O { float outCount[]; };

shared uint sCount[WG_X];

void main() {
    uint t = gl_LocalInvocationID.x;
    uint count = 0u;
    for (uint i = t; i < p.N; i += WG_X) {
        count += uint((floatBitsToUint(x[i]) & 0x7F800000u) == 0x7F800000u);
    }
    sCount[t] = count;
    barrier();
    for (uint s = WG_X / 2u; s > 0u; s /= 2u) {
        if (t < s) {
            sCount[t] += sCount[t + s];
        }
        barrier();
    }
    if (t == 0u) {
        float c = float(sCount[0]);
        outCount[p.Slot] = accumulate != 0u ? outCount[p.Slot] + c : c;
    }
}
