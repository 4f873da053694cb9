// db[c] = sum over r of dy[r][c]: one work-item per column (adjacent
// work-items read adjacent words of a row), compensated summation in row
// order so the result is deterministic and close to a float64 sum. With
// p.MaskRelu each term is first masked as relu_bwd (y > 0 ? dy : 0) and
// written back over dy; without it y is dy, unread.
#include "params.h"
#include "common.h"

__kernel void bias_grad(BiasGradParams p, __global float* dy, __global float* db, __global const float* y) {
    uint c = GID0;
    if (c >= p.Cols) return;
    float sum = 0.0f, comp = 0.0f;
    for (uint r = 0; r < p.Rows; r++) {
        const uint i = r * p.Cols + c;
        float v = dy[i];
        if (p.MaskRelu) {
            v = y[i] > 0.0f ? v : 0.0f;
            dy[i] = v;
        }
        kahan_add(&sum, &comp, v);
    }
    db[c] = sum + comp;
}
