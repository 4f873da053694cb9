// softmax_xent: softmax cross-entropy against integer labels, averaged over
// the N rows (torch.nn.CrossEntropyLoss). One work-group: each invocation
// handles rows t, t+WG, ...; the loss and the accuracy count are reduced in
// shared memory (the work-group size is a power of two).
//   dlogits[n][j] = (softmax(x)_j - [j == t]) / N
//   stats[0] = mean loss (NaN if a label is not an integer in [0, C))
//   stats[1] = number of rows whose FIRST maximal logit index is the label
// Buffers: logits[N*C], labels[N], dlogits[N*C], stats[2].
#version 450
#extension GL_GOOGLE_include_directive : require
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { SoftmaxXentParams p; };
layout(std430, set = 0, binding = 0) readonly restrict buffer L { float logits[]; };
layout(std430, set = 0, binding = 1) readonly restrict buffer T { float labels[]; };
layout(std430, set = 0, binding = 2) writeonly restrict buffer D { float dlogits[]; };
layout(std430, set = 0, binding = 3) writeonly restrict buffer S { float stats[]; };

shared float sLoss[WG_X];
shared float sCorrect[WG_X];

void main() {
    uint t = gl_LocalInvocationID.x;
    uint nt = WG_X;
    float loss = 0.0;
    float correct = 0.0;
    bool bad = false;
    float n = float(p.N);
    for (uint r = t; r < p.N; r += nt) {
        uint base = r * p.C;
        float lf = labels[r];
        int label = -1;
        if (lf >= 0.0 && lf < float(p.C) && lf == floor(lf)) {
            label = int(lf);
        }
        uint arg = 0u;
        float mx = logits[base];
        for (uint j = 1u; j < p.C; j++) {
            float v = logits[base + j];
            if (v > mx) {
                mx = v;
                arg = j;
            }
        }
        float sum = 0.0;
        for (uint j = 0u; j < p.C; j++) {
            sum += exp(logits[base + j] - mx);
        }
        if (label >= 0) {
            loss += log(sum) + mx - logits[base + uint(label)];
        } else {
            bad = true;
        }
        if (int(arg) == label) {
            correct += 1.0;
        }
        for (uint j = 0u; j < p.C; j++) {
            float g = exp(logits[base + j] - mx) / sum;
            if (int(j) == label) {
                g -= 1.0;
            }
            dlogits[base + j] = g / n;
        }
    }
    sLoss[t] = bad ? uintBitsToFloat(0x7FC00000u) : loss;
    sCorrect[t] = correct;
    barrier();
    for (uint s = nt / 2u; s > 0u; s /= 2u) {
        if (t < s) {
            sLoss[t] += sLoss[t + s];
            sCorrect[t] += sCorrect[t + s];
        }
        barrier();
    }
    if (t == 0u) {
        stats[0] = sLoss[0] / n;
        stats[1] = sCorrect[0];
    }
}
