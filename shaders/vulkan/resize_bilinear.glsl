// resize_bilinear: PIL's BILINEAR resize of 8-bit images (torchvision Resize
// on a PIL 'L' image) followed by /255, in PIL's fixed-point arithmetic: a
// horizontal pass rounded and clamped to uint8, then a vertical pass over
// those rows, rounded and clamped. The host computes PIL's coefficients
// (float64, as backend/ref) into the table buffer:
//   tab[0] = tapsH, tab[1] = tapsV,
//   then per output column: first input column, tapsH weights (scaled 2^22),
//   then per output row: first input row, tapsV weights (zero-padded).
// Buffers: src[SrcLen] (bytes packed 4 per word when Packed != 0, else one
// value per float), dst[N*OutH*OutW], tab (internal). src and tab are read
// as R32_UINT texel buffers in the texel-read form (TEXEL_READS).
#include "params.glsl"
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC { ResizeBilinearParams p; };
READ_UINT_BUFFER(0, Src, src);
layout(std430, set = 0, binding = 1) writeonly restrict buffer Dst { float dst[]; };
READ_UINT_BUFFER(2, Tab, tab);

const int PRECISION_BITS = 22;

// pixel is byte i of the source images (0..255).
int pixel(uint i) {
    if (p.Packed != 0u) {
        return int((LOAD_UINT(src, i >> 2) >> (8u * (i & 3u))) & 0xFFu);
    }
    float v = uintBitsToFloat(LOAD_UINT(src, i));
    if (!(v > 0.0)) {
        return 0;
    }
    float r = floor(v);
    if (v - r >= 0.5) {
        r += 1.0; // round half away from zero, as math.Round
    }
    return int(min(r, 255.0));
}

// clip8 is PIL's clip8: the fixed-point sum shifted down, clamped to 0..255.
int clip8(int ss) {
    if (ss >= (256 << PRECISION_BITS)) {
        return 255;
    }
    if (ss <= 0) {
        return 0;
    }
    return ss >> PRECISION_BITS;
}

void main() {
    uint tapsH = LOAD_UINT(tab, 0);
    uint tapsV = LOAD_UINT(tab, 1);
    uint total = p.N * p.OutH * p.OutW;
    uint vbase = 2u + p.OutW * (1u + tapsH);
    for (uint o = gridIndex(); o < total; o += gridStride()) {
        uint ox = o % p.OutW;
        uint t = o / p.OutW;
        uint oy = t % p.OutH;
        uint img = t / p.OutH;
        uint hoff = 2u + ox * (1u + tapsH);
        uint voff = vbase + oy * (1u + tapsV);
        uint x0 = LOAD_UINT(tab, hoff);
        uint y0 = LOAD_UINT(tab, voff);
        uint plane = img * p.InH * p.InW;
        int ss = 1 << (PRECISION_BITS - 1);
        for (uint jv = 0u; jv < tapsV; jv++) {
            int wv = int(LOAD_UINT(tab, voff + 1u + jv));
            if (wv == 0) {
                continue;
            }
            uint row = plane + (y0 + jv) * p.InW;
            int sh = 1 << (PRECISION_BITS - 1);
            for (uint jh = 0u; jh < tapsH; jh++) {
                int wh = int(LOAD_UINT(tab, hoff + 1u + jh));
                if (wh != 0) {
                    sh += pixel(row + x0 + jh) * wh;
                }
            }
            ss += clip8(sh) * wv;
        }
        dst[o] = float(clip8(ss)) / 255.0;
    }
}
