// x[i] = Value.
#include "params.h"
#include "common.h"

__kernel void fill(FillParams p, __global float* x) {
    uint i = GID0;
    if (i >= p.N) return;
    x[i] = p.Value;
}
