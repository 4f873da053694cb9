// Peak kernels of the benchmark (crossgrad bench), outside the closed kernel
// list: they measure the device's ceilings as clpeak does and are reached
// only through backend.Peaker (backend/opencl/peak.go).
//
// peak_fma*: every work item runs PEAK_CHAINS independent chains of fused
// multiply-adds x = fma(x, a, b) of width 1, 4, 8 or 16, each chain
// PEAK_UNROLL times per round, for iters rounds, and stores the sum of its
// chains (so nothing is dead code). FLOPs per work item:
// 2 * width * PEAK_CHAINS * PEAK_UNROLL * iters. With a = 0.999 and
// b = 0.001 the chains converge to 1: no overflow, no denormals.
//
// peak_copy: dst[i] = src[i] over float4 elements.

// PEAK_CHAINS and PEAK_UNROLL are -D options (the host's peakChains,
// peakUnroll): the host counts the FLOPs with them.
#ifndef PEAK_CHAINS
#error "PEAK_CHAINS must be set by the host (-D)"
#endif
#ifndef PEAK_UNROLL
#error "PEAK_UNROLL must be set by the host (-D)"
#endif
#if defined(PEAK_CHAINS) && defined(PEAK_UNROLL) && (PEAK_CHAINS != 12 || PEAK_UNROLL != 4)
#error "PEAK_CHAINS must be 12 and PEAK_UNROLL 4: the chains x0..x11 and PEAK_FMA_BODY's four rounds are written out"
#endif

#define PEAK_STEP(x) x = fma(x, a, b);
#define PEAK_ROUND(T)                                                   \
    PEAK_STEP(x0) PEAK_STEP(x1) PEAK_STEP(x2) PEAK_STEP(x3)             \
    PEAK_STEP(x4) PEAK_STEP(x5) PEAK_STEP(x6) PEAK_STEP(x7)             \
    PEAK_STEP(x8) PEAK_STEP(x9) PEAK_STEP(x10) PEAK_STEP(x11)

#define PEAK_FMA_BODY(T, SUM)                                           \
    uint gid = (uint)get_global_id(0);                                  \
    T s = (T)((float)(gid & 255u) * 0.00390625f);                       \
    T x0 = s, x1 = s + (T)(0.1f), x2 = s + (T)(0.2f), x3 = s + (T)(0.3f);  \
    T x4 = s + (T)(0.4f), x5 = s + (T)(0.5f), x6 = s + (T)(0.6f);          \
    T x7 = s + (T)(0.7f), x8 = s + (T)(0.8f), x9 = s + (T)(0.9f);       \
    T x10 = s + (T)(0.15f), x11 = s + (T)(0.25f);                       \
    T a = (T)(af), b = (T)(bf);                                         \
    for (uint i = 0; i < iters; i++) {                                  \
        PEAK_ROUND(T) PEAK_ROUND(T) PEAK_ROUND(T) PEAK_ROUND(T)         \
    }                                                                   \
    T t = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7)) + ((x8 + x9) + (x10 + x11)); \
    if (gid < n) out[gid] = SUM(t);

#define PEAK_SUM1(t) (t)
#define PEAK_SUM4(t) (t.s0 + t.s1 + t.s2 + t.s3)
#define PEAK_SUM8(t) (PEAK_SUM4(t.lo) + PEAK_SUM4(t.hi))
#define PEAK_SUM16(t) (PEAK_SUM4(t.lo.lo) + PEAK_SUM4(t.lo.hi) + PEAK_SUM4(t.hi.lo) + PEAK_SUM4(t.hi.hi))

__kernel void peak_fma(__global float* out, uint n, float af, float bf, uint iters) {
    PEAK_FMA_BODY(float, PEAK_SUM1)
}

__kernel void peak_fma4(__global float* out, uint n, float af, float bf, uint iters) {
    PEAK_FMA_BODY(float4, PEAK_SUM4)
}

__kernel void peak_fma8(__global float* out, uint n, float af, float bf, uint iters) {
    PEAK_FMA_BODY(float8, PEAK_SUM8)
}

__kernel void peak_fma16(__global float* out, uint n, float af, float bf, uint iters) {
    PEAK_FMA_BODY(float16, PEAK_SUM16)
}

__kernel void peak_copy(__global const float4* src, __global float4* dst, uint n4) {
    uint i = (uint)get_global_id(0);
    if (i < n4) dst[i] = src[i];
}
