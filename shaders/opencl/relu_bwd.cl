// dx = dy where the forward output y > 0, else 0; dx may be dy.
#include "params.h"
#include "common.h"

__kernel void relu_bwd(ReluBwdParams p, __global const float* y, __global const float* dy, __global float* dx) {
    uint i = GID0;
    if (i >= p.N) return;
    dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
