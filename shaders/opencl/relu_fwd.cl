// y = max(x, 0); x and y may be the same buffer.
#include "params.h"
#include "common.h"

__kernel void relu_fwd(ReluFwdParams p, __global const float* x, __global float* y) {
    uint i = GID0;
    if (i >= p.N) return;
    float v = x[i];
    y[i] = v > 0.0f ? v : 0.0f;
}
