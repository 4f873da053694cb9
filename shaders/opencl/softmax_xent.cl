// Softmax cross-entropy over logits[N][C] against labels[N] (class index as
// float), averaged over the rows. Launched as ONE work-group of a power-of-two
// size L <= SOFTMAX_XENT_GROUP: work-item t handles rows t, t+L, ...; the
// loss and correct count are reduced in local memory in a fixed order, so
// the result is deterministic for a given L.
//   dlogits[n][j] = (softmax(x)_j - [j == t]) / N
//   stats[0] = mean of log-sum-exp(x) - x_t, stats[1] = rows whose first
//   maximal logit index is t.
// A label that is not an integer in [0, C) gives a NaN loss, no one-hot term
// and never counts as correct.
#include "params.h"
#include "common.h"

// SOFTMAX_XENT_GROUP, the size of the local arrays, is set by the host (-D).
#ifndef SOFTMAX_XENT_GROUP
#error "SOFTMAX_XENT_GROUP must be set by the host (-D)"
#endif

__kernel void softmax_xent(SoftmaxXentParams p, __global const float* logits, __global const float* labels,
                           __global float* dlogits, __global float* stats) {
    __local float loss_part[SOFTMAX_XENT_GROUP];
    __local float comp_part[SOFTMAX_XENT_GROUP];
    __local uint correct_part[SOFTMAX_XENT_GROUP];
    uint t = (uint)get_local_id(0);
    uint l = (uint)get_local_size(0);
    uint c = p.C;
    float inv_n = 1.0f / (float)p.N;
    float loss = 0.0f, comp = 0.0f;
    uint correct = 0;
    for (uint r = t; r < p.N; r += l) {
        __global const float* x = logits + (size_t)r * c;
        __global float* d = dlogits + (size_t)r * c;
        float lf = labels[r];
        int target = -1;
        if (lf >= 0.0f && lf < (float)c && lf == (float)(int)lf) {
            target = (int)lf;
        }
        uint arg = 0;
        float mx = x[0];
        for (uint j = 1; j < c; j++) {
            float v = x[j];
            if (v > mx) {
                mx = v;
                arg = j;
            }
        }
        float sum = 0.0f, sc = 0.0f;
        for (uint j = 0; j < c; j++) {
            kahan_add(&sum, &sc, exp(x[j] - mx));
        }
        sum += sc;
        float lse = log(sum);
        float inv_sum = 1.0f / sum;
        for (uint j = 0; j < c; j++) {
            float g = exp(x[j] - mx) * inv_sum;
            if ((int)j == target) g -= 1.0f;
            d[j] = g * inv_n;
        }
        kahan_add(&loss, &comp, target >= 0 ? lse - (x[target] - mx) : NAN);
        if ((int)arg == target) correct++;
    }
    loss_part[t] = loss;
    comp_part[t] = comp;
    correct_part[t] = correct;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = l / 2; s > 0; s /= 2) {
        if (t < s) {
            float a = loss_part[t], b = loss_part[t + s];
            float ca = comp_part[t] + comp_part[t + s];
            float sum = a + b;
            // Two-sum error of a+b joins the compensation.
            float bb = sum - a;
            ca += (a - (sum - bb)) + (b - bb);
            loss_part[t] = sum;
            comp_part[t] = ca;
            correct_part[t] += correct_part[t + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (t == 0) {
        stats[0] = (loss_part[0] + comp_part[0]) / (float)p.N;
        stats[1] = (float)correct_part[0];
    }
}
