// conv2d_bwd_filter: the weight and bias gradients as one implicit GEMM:
// DW[k][q] = sum over l = (n, oh, ow) of DY[k][l] * X'[l][q] for the columns
// q = (c, r, s) < C*R*S, where X' is the im2col view of x, plus one more
// column q = C*R*S whose X' entries are all 1, which gives db[k]. The
// reduction over l is split into gl_NumWorkGroups.z chunks (split-K): with
// one chunk the results go to dw and db directly, else chunk z writes
// partial[(z*K + k)*(C*R*S+1) + q] and conv2d_bwd_filter_reduce adds them.
// Buffers: x[N*C*H*W], dy[N*K*OH*OW], dw[K*C*R*S], db[K] (both
// overwritten), partial (internal), ym[N*K*OH*OW] (dy when MaskRelu == 0,
// unread). With MaskRelu dy is read masked as relu_bwd by the ReLU output
// ym (ym > 0 ? dy : 0). Tiling: gemm_tile.glsl.
#include "params.glsl"
#include "common.glsl"

layout(push_constant) uniform PC { Conv2DBwdFilterParams p; };
#include "tile_operands.glsl" // x, dy
#include "im2col.glsl"
layout(std430, set = 0, binding = 2) writeonly buffer DW { float dw[]; };
layout(std430, set = 0, binding = 3) writeonly buffer DB { float db[]; };
layout(std430, set = 0, binding = 4) writeonly buffer PART { float partial[]; };
#ifdef TILE_TEXEL
layout(set = 0, binding = 5) uniform samplerBuffer ymt;
float readYm(uint i) { return texelFetch(ymt, int(i)).x; }
#else
layout(std430, set = 0, binding = 5) readonly buffer Ym { float ym[]; };
float readYm(uint i) { return ym[i]; }
#endif

float loadA(uint k, uint l) {
    uint ohw = dOHW.d;
    uint n = udiv(l, dOHW);
    uint i = (n * p.K + k) * ohw + l - n * ohw;
    float m = readYm(i), v = read1(i); // m is dy itself without MaskRelu
    return (p.MaskRelu == 0u || m > 0.0) ? v : 0.0;
}

float loadB(uint l, uint q) {
    uint crs = p.C * p.R * p.S;
    float v = im2col(min(q, crs - 1u), l);
    return q == crs ? 1.0 : v; // the bias column: ones
}

void storeC(uint k, uint q, float v) {
    uint crs = p.C * p.R * p.S;
    if (gl_NumWorkGroups.z > 1u) {
        partial[(gl_WorkGroupID.z * p.K + k) * (crs + 1u) + q] = v;
    } else if (q == crs) {
        db[k] = v;
    } else {
        dw[k * crs + q] = v;
    }
}

#include "gemm_tile.glsl"

void main() {
    setIm2colDivisors();
    uint l = p.N * p.OH * p.OW;
    uint splits = gl_NumWorkGroups.z;
    uint chunk = ceilDiv(ceilDiv(l, splits), TK) * TK;
    uint k0 = min(l, gl_WorkGroupID.z * chunk);
    uint k1 = min(l, k0 + chunk);
    gemmTile(p.K, p.C * p.R * p.S + 1u, k0, k1, true, false);
}
