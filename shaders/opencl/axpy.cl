// y += Alpha*x.
#include "params.h"
#include "common.h"

__kernel void axpy(AxpyParams p, __global const float* x, __global float* y) {
    uint i = GID0;
    if (i >= p.N) return;
    y[i] += p.Alpha * x[i];
}
