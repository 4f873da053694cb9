// y[r][c] += b[c] over y[Rows][Cols], clamped as relu_fwd when p.Relu: 2-D
// launch (c, r), one work-item per element.
#include "params.h"
#include "common.h"

__kernel void bias_add(BiasAddParams p, __global float* y, __global const float* b) {
    uint c = (uint)get_global_id(0), r = (uint)get_global_id(1);
    if (c >= p.Cols || r >= p.Rows) return;
    const size_t i = (size_t)r * p.Cols + c;
    const float v = y[i] + b[c];
    y[i] = (p.Relu && !(v > 0.0f)) ? 0.0f : v;
}
