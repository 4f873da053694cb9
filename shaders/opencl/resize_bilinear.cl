// PIL BILINEAR resize of N 8-bit images InH x InW to OutH x OutW, then /255,
// as torchvision Resize + ToTensor: a horizontal pass rounded and clamped to
// uint8, then a vertical pass over those rows, rounded and clamped. The tap
// tables (computed on the host in float64 exactly as PIL) hold, per output
// position, the first input position, then `taps` fixed-point weights
// (scaled by 2^22, zero-padded). 3-D launch (x, y, image): one work-item per
// output pixel recomputes the horizontal results of the rows it needs.
#include "params.h"
#include "common.h"

#define PIL_PRECISION_BITS 22

CG_INLINE uint resize_bilinear_pixel(ResizeBilinearParams p, __global const float* src, uint i) {
    if (p.Packed != 0u) {
        return (as_uint(src[i >> 2]) >> (8u * (i & 3u))) & 0xFFu;
    }
    float v = src[i];
    if (!(v > 0.0f)) return 0u;
    return (uint)fmin(round(v), 255.0f);
}

CG_INLINE uint resize_bilinear_clip8(int ss) {
    if (ss >= (256 << PIL_PRECISION_BITS)) return 255u;
    if (ss <= 0) return 0u;
    return (uint)(ss >> PIL_PRECISION_BITS);
}

__kernel void resize_bilinear(ResizeBilinearParams p, __global const float* src, __global float* dst,
                              __global const int* hc, uint htaps, __global const int* vc, uint vtaps) {
    uint x = (uint)get_global_id(0), y = (uint)get_global_id(1), img = (uint)get_global_id(2);
    if (x >= p.OutW || y >= p.OutH) return;
    uint o = (img * p.OutH + y) * p.OutW + x;
    uint base = img * p.InH * p.InW;
    int hx0 = hc[x];
    __global const int* hw = hc + p.OutW + x * htaps;
    int vy0 = vc[y];
    __global const int* vw = vc + p.OutH + y * vtaps;
    int vs = 1 << (PIL_PRECISION_BITS - 1);
    for (uint j = 0; j < vtaps; j++) {
        int wv = vw[j];
        if (wv == 0) continue;
        uint row = (uint)vy0 + j;
        int hs = 1 << (PIL_PRECISION_BITS - 1);
        for (uint k = 0; k < htaps; k++) {
            int wh = hw[k];
            if (wh == 0) continue;
            hs += (int)resize_bilinear_pixel(p, src, base + row * p.InW + (uint)hx0 + k) * wh;
        }
        vs += (int)resize_bilinear_clip8(hs) * wv;
    }
    dst[o] = (float)resize_bilinear_clip8(vs) / 255.0f;
}
