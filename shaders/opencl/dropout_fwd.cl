// y = x*Scale where element i is kept (dropout_uniform at Offset+i >= P), else 0.
#include "params.h"
#include "common.h"

__kernel void dropout_fwd(DropoutFwdParams p, __global const float* x, __global float* y) {
    uint i = GID0;
    if (i >= p.N) return;
    y[i] = dropout_uniform(p.Seed, p.Step, p.Offset + i) >= p.P ? x[i] * p.Scale : 0.0f;
}
