// x *= Alpha.
#include "params.h"
#include "common.h"

__kernel void scale(ScaleParams p, __global float* x) {
    uint i = GID0;
    if (i >= p.N) return;
    x[i] *= p.Alpha;
}
