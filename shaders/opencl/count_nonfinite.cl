// out[Slot] = number of NaN and infinite values among x[0..N), as float.
// Launched as ONE work-group of a power-of-two size L <= COUNT_NONFINITE_GROUP:
// work-item t counts elements t, t+L, ... (an exponent field of all ones is
// NaN or Inf: a bit test that no floating-point optimisation can remove),
// and the counts are summed in local memory. Integer sums: the result does
// not depend on L.
#include "params.h"
#include "common.h"

// COUNT_NONFINITE_GROUP, the size of the local array, is set by the host (-D).
#ifndef COUNT_NONFINITE_GROUP
#error "COUNT_NONFINITE_GROUP must be set by the host (-D)"
#endif

__kernel void count_nonfinite(CountNonfiniteParams p, __global const float* x, __global float* out) {
    __local uint part[COUNT_NONFINITE_GROUP];
    uint t = (uint)get_local_id(0);
    uint l = (uint)get_local_size(0);
    uint count = 0;
    for (uint i = t; i < p.N; i += l) {
        count += (as_uint(x[i]) & 0x7F800000u) == 0x7F800000u;
    }
    part[t] = count;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = l / 2; s > 0; s /= 2) {
        if (t < s) {
            part[t] += part[t + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (t == 0) {
        out[p.Slot] = (float)part[0];
    }
}
