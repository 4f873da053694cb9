// conv2d_bwd_data: dx = conv_transpose(dy, w) as a gather-form implicit
// GEMM, split by stride phase so that no tap multiplies a structural zero.
// Input position h receives dy[oh] * w[r] where h + PadH = oh*StrideH + r,
// so only the taps r = a + StrideH*t with a = (h + PadH) mod StrideH
// contribute, and then oh = u - t for h + PadH = StrideH*u + a. Work-group
// layer z is the phase (a, b) = (z / StrideW, z % StrideW); within it
//   DX[c][(n,u,v)] = sum over (k,t,t') of w[k][c][a+StrideH*t][b+StrideW*t']
//                    * dy[n][k][u-t][v-t']   (zero outside dy)
// is a dense product of C rows, N*Hu*Wv columns and K*Tr*Ts terms.
// Buffers: dy[N*K*OH*OW], w[K*C*R*S], dx[N*C*H*W] (overwritten),
// ym[N*K*OH*OW] (dy when MaskRelu == 0, unread). With MaskRelu dy is read
// masked as relu_bwd by the ReLU output ym (ym > 0 ? dy : 0). Tiling:
// gemm_tile.glsl.
#include "params.glsl"
#include "common.glsl"

layout(push_constant) uniform PC { Conv2DBwdDataParams p; };
#include "tile_operands.glsl" // dy, w
layout(std430, set = 0, binding = 2) writeonly restrict buffer DX { float dx[]; };
#ifdef TILE_TEXEL
layout(set = 0, binding = 3) uniform samplerBuffer ymt;
float readYm(uint i) { return texelFetch(ymt, int(i)).x; }
#else
layout(std430, set = 0, binding = 3) readonly buffer Ym { float ym[]; };
float readYm(uint i) { return ym[i]; }
#endif

// The phase: first tap a, b; tap counts tr, ts; first u, v and counts hu, wv
// of the input positions h = StrideH*u + a - PadH, w = StrideW*v + b - PadW.
uint pa, pb, ptr, pts, pu0, pv0, phu, pwv;

// phaseAxis computes, for one axis of input size n, padding pad, stride st,
// taps k and phase a: the tap count, the first u and the count of u.
void phaseAxis(uint n, uint pad, uint st, uint k, uint a, out uint taps, out uint u0, out uint cnt) {
    taps = a < k ? ceilDiv(k - a, st) : 0u;
    u0 = pad > a ? ceilDiv(pad - a, st) : 0u;
    uint u1 = n + pad > a ? ceilDiv(n + pad - a, st) : 0u;
    cnt = u1 > u0 ? u1 - u0 : 0u;
}

// The divisors of the index arithmetic: the taps ptr*pts and pts, the
// phase's positions phu*pwv and pwv.
Divisor dTT, dTS, dPlane, dWV;

float loadA(uint c, uint q) {
    uint k = udiv(q, dTT);
    uint t = q - k * dTT.d;
    uint tr = udiv(t, dTS);
    uint r = pa + p.StrideH * tr;
    uint s = pb + p.StrideW * (t - tr * pts);
    return read1(((k * p.C + c) * p.R + r) * p.S + s);
}

float loadB(uint q, uint j) {
    uint k = udiv(q, dTT);
    uint t = q - k * dTT.d;
    uint tr = udiv(t, dTS);
    uint n = udiv(j, dPlane);
    uint pos = j - n * dPlane.d;
    uint u = udiv(pos, dWV);
    int oh = int(pu0 + u) - int(tr);
    int ow = int(pv0 + pos - u * pwv) - int(t - tr * pts);
    // Branch-free: read a clamped position, then zero it outside dy.
    bool inside = oh >= 0 && oh < int(p.OH) && ow >= 0 && ow < int(p.OW);
    uint h = uint(clamp(oh, 0, int(p.OH) - 1));
    uint w = uint(clamp(ow, 0, int(p.OW) - 1));
    uint i = ((n * p.K + k) * p.OH + h) * p.OW + w;
    float v = read0(i);
    float m = readYm(i); // dy itself without MaskRelu
    return (inside && (p.MaskRelu == 0u || m > 0.0)) ? v : 0.0;
}

void storeC(uint c, uint j, float v) {
    uint n = udiv(j, dPlane);
    uint pos = j - n * dPlane.d;
    uint u = udiv(pos, dWV);
    uint h = p.StrideH * (pu0 + u) + pa - p.PadH;
    uint x = p.StrideW * (pv0 + pos - u * pwv) + pb - p.PadW;
    dx[((n * p.C + c) * p.H + h) * p.W + x] = v;
}

#include "gemm_tile.glsl"

void main() {
    pa = gl_WorkGroupID.z / p.StrideW;
    pb = gl_WorkGroupID.z % p.StrideW;
    phaseAxis(p.H, p.PadH, p.StrideH, p.R, pa, ptr, pu0, phu);
    phaseAxis(p.W, p.PadW, p.StrideW, p.S, pb, pts, pv0, pwv);
    dTT = divisor(ptr * pts);
    dTS = divisor(pts);
    dPlane = divisor(phu * pwv);
    dWV = divisor(pwv);
    gemmTile(p.C, p.N * phu * pwv, 0u, p.K * ptr * pts, true, true);
}
