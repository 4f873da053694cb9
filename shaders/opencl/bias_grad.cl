// db[c] = sum over r of dy[r][c]: one work-item per column (adjacent
// work-items read adjacent words of a row), compensated summation in row
// order so the result is deterministic and close to a float64 sum.
#include "params.h"
#include "common.h"

__kernel void bias_grad(BiasGradParams p, __global const float* dy, __global float* db) {
    uint c = GID0;
    if (c >= p.Cols) return;
    float sum = 0.0f, comp = 0.0f;
    for (uint r = 0; r < p.Rows; r++) {
        kahan_add(&sum, &comp, dy[r * p.Cols + c]);
    }
    db[c] = sum + comp;
}
