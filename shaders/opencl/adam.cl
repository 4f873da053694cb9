// One torch.optim.Adam step (weight_decay 0, amsgrad off), per element:
//   m += OneMinusBeta1*(g-m); v = Beta2*v + OneMinusBeta2*g*g
//   p -= StepSize * m / (sqrt(v)/BC2Sqrt + Eps)
// in float32, with 1-BetaN rounded from float64 on the host as torch does.
// Exact IEEE float32, bit-identical with the reference backend and the Vulkan
// kernel: no contraction into fma, and sqrt and division correctly rounded
// (the device program is built with -cl-fp32-correctly-rounded-divide-sqrt
// where the device supports it, see backend/opencl optionsFor).
#include "params.h"
#include "common.h"

#pragma OPENCL FP_CONTRACT OFF

__kernel void adam(AdamParams p, __global float* param, __global const float* g,
                   __global float* m, __global float* v) {
    uint i = GID0;
    if (i >= p.N) return;
    float gi = g[i];
    float mi = m[i];
    mi = mi + p.OneMinusBeta1 * (gi - mi);
    float vi = p.Beta2 * v[i] + p.OneMinusBeta2 * (gi * gi);
    m[i] = mi;
    v[i] = vi;
    param[i] = param[i] - (p.StepSize * mi) / (sqrt(vi) / p.BC2Sqrt + p.Eps);
}
