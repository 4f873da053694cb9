// dx = dy*Scale where element i was kept by the matching dropout_fwd (index Offset+i), else 0.
#include "params.h"
#include "common.h"

__kernel void dropout_bwd(DropoutBwdParams p, __global const float* dy, __global float* dx) {
    uint i = GID0;
    if (i >= p.N) return;
    dx[i] = dropout_uniform(p.Seed, p.Step, p.Offset + i) >= p.P ? dy[i] * p.Scale : 0.0f;
}
