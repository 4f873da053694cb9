// Shared helpers of the crossgrad OpenCL kernels (OpenCL C 1.2).
#ifndef CROSSGRAD_COMMON_H
#define CROSSGRAD_COMMON_H

// Global linear index of a 1-D launch.
#define GID0 ((uint)get_global_id(0))

// Helper functions must be inlined before PoCL vectorises a work-group
// across work-items: with a plain `inline` PoCL may keep the call, which
// makes a kernel scalar (dropout measured 8-12x slower).
#define CG_INLINE inline __attribute__((always_inline))

// One Philox4x32 round on c0..c3 with key k0, k1, then the key bump (the
// bump after the last round is unused).
#define PHILOX_ROUND(c0, c1, c2, c3, k0, k1)                 \
    {                                                        \
        uint hi0_ = mul_hi(0xD2511F53u, c0);                 \
        uint lo0_ = 0xD2511F53u * c0;                        \
        uint hi1_ = mul_hi(0xCD9E8D57u, c2);                 \
        uint lo1_ = 0xCD9E8D57u * c2;                        \
        c0 = hi1_ ^ c1 ^ k0;                                 \
        c1 = lo1_;                                           \
        c2 = hi0_ ^ c3 ^ k1;                                 \
        c3 = lo0_;                                           \
        k0 += 0x9E3779B9u;                                   \
        k1 += 0xBB67AE85u;                                   \
    }

// Philox4x32-10 (Salmon et al. 2011, as in Random123 and curand): ten rounds
// over counter ctr with key key, the key bumped by the Weyl constants between
// rounds. Unrolled by hand: with a loop PoCL does not vectorise across
// work-items (8x slower).
CG_INLINE uint4 philox4x32_10(uint4 ctr, uint2 key) {
    uint c0 = ctr.x, c1 = ctr.y, c2 = ctr.z, c3 = ctr.w;
    uint k0 = key.x, k1 = key.y;
    PHILOX_ROUND(c0, c1, c2, c3, k0, k1)
    PHILOX_ROUND(c0, c1, c2, c3, k0, k1)
    PHILOX_ROUND(c0, c1, c2, c3, k0, k1)
    PHILOX_ROUND(c0, c1, c2, c3, k0, k1)
    PHILOX_ROUND(c0, c1, c2, c3, k0, k1)
    PHILOX_ROUND(c0, c1, c2, c3, k0, k1)
    PHILOX_ROUND(c0, c1, c2, c3, k0, k1)
    PHILOX_ROUND(c0, c1, c2, c3, k0, k1)
    PHILOX_ROUND(c0, c1, c2, c3, k0, k1)
    PHILOX_ROUND(c0, c1, c2, c3, k0, k1)
    return (uint4)(c0, c1, c2, c3);
}

// Second key word of the dropout generator (the first is the seed).
#define DROPOUT_KEY1 0xCA5A0B1Eu

// Uniform number in [0,1) deciding whether element i is kept at dropout step
// `step`: top 24 bits of the first Philox word of counter (i, step, 0, 0) and
// key (seed, DROPOUT_KEY1), times 2^-24 (exact).
CG_INLINE float dropout_uniform(uint seed, uint step, uint i) {
    uint x0 = philox4x32_10((uint4)(i, step, 0u, 0u), (uint2)(seed, DROPOUT_KEY1)).x;
    return (float)(x0 >> 8) * (1.0f / 16777216.0f);
}

// Neumaier's compensated summation: adds v to *sum, keeping the lost
// low-order part in *comp; the total is *sum + *comp.
CG_INLINE void kahan_add(float* sum, float* comp, float v) {
    float t = *sum + v;
    if (fabs(*sum) >= fabs(v)) {
        *comp += (*sum - t) + v;
    } else {
        *comp += (v - t) + *sum;
    }
    *sum = t;
}

#endif
