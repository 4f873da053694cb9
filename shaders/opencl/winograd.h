// Shared by the Winograd transforms winograd_input, winograd_output,
// winograd_filter and winograd_dy (OpenCL C 1.2).
#ifndef CROSSGRAD_WINOGRAD_H
#define CROSSGRAD_WINOGRAD_H

#include "common.h"

// WINOGRAD_LANES (a -D option: the host's winogradLanes) is the number of
// neighbouring tiles or channels one work-item transforms, as float4 lanes.
#ifndef WINOGRAD_LANES
#error "WINOGRAD_LANES must be set by the host (-D)"
#elif WINOGRAD_LANES != 4
#error "WINOGRAD_LANES must be 4: the Winograd transforms hold their lanes in float4"
#endif

// Stores the first n (1 to WINOGRAD_LANES) lanes of v at o: one vstore4
// when all of them.
CG_INLINE void wg_store_lanes(const float4 v, const uint n, __global float* o) {
    if (n == WINOGRAD_LANES) {
        vstore4(v, 0, o);
        return;
    }
    o[0] = v.s0;
    if (n > 1u) o[1] = v.s1;
    if (n > 2u) o[2] = v.s2;
}

// The kernel blocks of the Winograd transforms: wg_bs is BS, the blocks
// along a row of an S-wide kernel (ceil(S/3), 1 with K5: F(2x2,5x5) takes
// the whole 5x5 filter), wg_blocks Q = ceil(R/3)*BS (1 with K5).
CG_INLINE uint wg_bs(const uint S, const uint k5) { return k5 ? 1u : (S + 2u) / 3u; }

CG_INLINE uint wg_blocks(const uint R, const uint S, const uint k5) { return k5 ? 1u : (R + 2u) / 3u * ((S + 2u) / 3u); }

// The F(2x2,5x5) transforms (the matrices in backend/ref/winograd5.go) of
// six float4 lanes: o = B^T d (wg_bt6), the filter row o = G g (wg_g5 of
// five floats) and the output row o = A^T m (wg_at6, two of six).
CG_INLINE void wg_bt6(const float4* d, float4* o) {
    o[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
    o[1] = d[3] + d[4] - 4.0f * (d[1] + d[2]);
    o[2] = 4.0f * (d[1] - d[2]) - d[3] + d[4];
    o[3] = 2.0f * (d[3] - d[1]) - d[2] + d[4];
    o[4] = 2.0f * (d[1] - d[3]) - d[2] + d[4];
    o[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];
}

CG_INLINE void wg_g5(const float* g, float* o) {
    o[0] = 0.25f * g[0];
    o[1] = -(g[0] + g[1] + g[2] + g[3] + g[4]) / 6.0f;
    o[2] = -(g[0] - g[1] + g[2] - g[3] + g[4]) / 6.0f;
    o[3] = (g[0] + 2.0f * g[1] + 4.0f * g[2] + 8.0f * g[3] + 16.0f * g[4]) / 24.0f;
    o[4] = (g[0] - 2.0f * g[1] + 4.0f * g[2] - 8.0f * g[3] + 16.0f * g[4]) / 24.0f;
    o[5] = g[4];
}

CG_INLINE void wg_at6(const float4* m, float4* o) {
    o[0] = m[0] + m[1] + m[2] + m[3] + m[4];
    o[1] = m[1] - m[2] + 2.0f * (m[3] - m[4]) + m[5];
}

// The F(4x4,3x3) transforms (the matrices in backend/ref/winograd4.go; its
// B^T is wg_bt6): the filter row o = G g (wg_g3 of three floats) and the
// output row o = A^T m (wg_at4, four of six).
CG_INLINE void wg_g3(const float* g, float* o) {
    o[0] = 0.25f * g[0];
    o[1] = -(g[0] + g[1] + g[2]) / 6.0f;
    o[2] = -(g[0] - g[1] + g[2]) / 6.0f;
    o[3] = (g[0] + 2.0f * g[1] + 4.0f * g[2]) / 24.0f;
    o[4] = (g[0] - 2.0f * g[1] + 4.0f * g[2]) / 24.0f;
    o[5] = g[2];
}

CG_INLINE void wg_at4(const float4* m, float4* o) {
    const float4 p1 = m[1] + m[2], m1 = m[1] - m[2], p2 = m[3] + m[4], m2 = m[3] - m[4];
    o[0] = m[0] + p1 + p2;
    o[1] = m1 + 2.0f * m2;
    o[2] = p1 + 4.0f * p2;
    o[3] = (m1 + m[5]) + 8.0f * m2;
}

#endif
