// conv2d_fwd: y = conv(x, w) + b over NCHW tensors as an implicit GEMM:
// Y[k][j] = sum over q = (c, r, s) of W[k][q] * X[q][j] + b[k], where column
// j = (n, oh, ow) runs over the whole batch and X is the im2col view of x
// (zero outside the input). Buffers: x[N*C*H*W], w[K*C*R*S], b[K],
// y[N*K*OH*OW]. Tiling: gemm_tile.glsl.
#include "params.glsl"
#include "common.glsl"

layout(push_constant) uniform PC { Conv2DFwdParams p; };
#include "tile_operands.glsl" // x, w
#include "im2col.glsl"
layout(std430, set = 0, binding = 2) readonly restrict buffer Bias { float bias[]; };
layout(std430, set = 0, binding = 3) writeonly restrict buffer Y { float y[]; };

#ifdef TILE_TEXEL
#include "gemm_tile_spec.glsl"
// With VW = 4 (texel loads only) w has four floats per texel
// (R32G32B32A32_SFLOAT; C*R*S % 4 == 0) and x one: loadA4 is W elements
// (k, q..q+3) for q % 4 == 0.
#define TILE_LOADA4 1
vec4 loadA4(uint k, uint q) {
    return texelFetch(operand1, int((k * (p.C * p.R * p.S) + q) >> 2u));
}

float loadA(uint k, uint q) {
    uint i = k * (p.C * p.R * p.S) + q;
    return VW == 4u ? texelFetch(operand1, int(i >> 2u))[i & 3u] : read1(i);
}
#else
float loadA(uint k, uint q) {
    return read1(k * (p.C * p.R * p.S) + q);
}
#endif

float loadB(uint q, uint j) { return im2col(q, j); }

void storeC(uint k, uint j, float v) {
    uint ohw = dOHW.d;
    uint n = udiv(j, dOHW);
    float o = v + bias[k];
    // With Relu, clamp as relu_fwd (o > 0 ? o : 0).
    y[(n * p.K + k) * ohw + j - n * ohw] = (p.Relu != 0u && !(o > 0.0)) ? 0.0 : o;
}

#include "gemm_tile.glsl"

void main() {
    setIm2colDivisors();
    gemmTile(p.K, p.N * p.OH * p.OW, 0u, p.C * p.R * p.S, true, true);
}
