// Shared helpers of the crossgrad Vulkan compute shaders (GLSL 450,
// Vulkan 1.1). Every shader includes params.glsl (generated) and this file.
#ifndef CROSSGRAD_COMMON_GLSL
#define CROSSGRAD_COMMON_GLSL

// The work-group size: specialization constants 0 and 1, which the shaders
// also name in layout(local_size_x_id = 0[, local_size_y_id = 1]) in. Code
// uses WG_X and WG_Y, never gl_WorkGroupSize: glslc -O folds
// gl_WorkGroupSize to its default value.
layout(constant_id = 0) const uint WG_X = 64u;
layout(constant_id = 1) const uint WG_Y = 1u;

// Index helpers for 1-D launches: the host caps the group count, so element
// loops stride over the whole launch.
uint gridIndex() { return gl_GlobalInvocationID.x; }
uint gridStride() { return gl_NumWorkGroups.x * WG_X; }

// Philox4x32-10 (Salmon et al. 2011, as in Random123 and curand): ten rounds
// over counter c with key k, the key bumped by the Weyl constants between
// rounds. umulExtended gives the 64-bit products as (hi, lo).
uvec4 philox4x32_10(uvec4 c, uvec2 k) {
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k.x += 0x9E3779B9u;
            k.y += 0xBB67AE85u;
        }
        uint hi0, lo0, hi1, lo1;
        umulExtended(0xD2511F53u, c.x, hi0, lo0);
        umulExtended(0xCD9E8D57u, c.z, hi1, lo1);
        c = uvec4(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    }
    return c;
}

// Second key word of the dropout generator (the first is the seed).
const uint DROPOUT_KEY1 = 0xCA5A0B1Eu;

// Uniform number in [0,1) deciding whether element i is kept at dropout step
// `step`: the top 24 bits of the first Philox word of counter
// (i, step, 0, 0) and key (seed, DROPOUT_KEY1), times 2^-24 (exact).
float dropoutUniform(uint seed, uint step, uint i) {
    uint x0 = philox4x32_10(uvec4(i, step, 0u, 0u), uvec2(seed, DROPOUT_KEY1)).x;
    return float(x0 >> 8) * (1.0 / 16777216.0);
}

// READ_BUFFER declares a read-only float operand of a streaming kernel at a
// binding: a storage buffer, or with TEXEL_READS (the <kernel>_tx modules
// the host runs on CPU devices) a uniform texel buffer of R32_SFLOAT
// texels, which llvmpipe fetches for all lanes at once where it loads a
// storage buffer one lane at a time. LOAD reads element i of one; i must be
// within the binding (a read that may fall outside clamps its index first).
// READ_UINT_BUFFER and LOAD_UINT are the same for a binding of 32-bit
// words (R32_UINT texels).
#ifdef TEXEL_READS
#define READ_BUFFER(b, block, name) layout(set = 0, binding = b) uniform samplerBuffer name
#define LOAD(name, i) texelFetch(name, int(i)).x
#define READ_UINT_BUFFER(b, block, name) layout(set = 0, binding = b) uniform usamplerBuffer name
#define LOAD_UINT(name, i) texelFetch(name, int(i)).x
#else
#define READ_BUFFER(b, block, name) layout(std430, set = 0, binding = b) readonly buffer block { float name[]; }
#define LOAD(name, i) name[i]
#define READ_UINT_BUFFER(b, block, name) layout(std430, set = 0, binding = b) readonly buffer block { uint name[]; }
#define LOAD_UINT(name, i) name[i]
#endif

// Divisor is a divisor d > 0 of the tile loaders' index arithmetic with
// its float reciprocal. On CPU drivers an integer division by a value known
// only at run time is one scalar division per SIMD lane (x86 has no vector
// one); the texel variants (TILE_TEXEL, run on CPU devices only) divide
// through the reciprocal instead, exact for dividends below 2^22 (the
// product is then within one of the quotient, the reciprocal being within
// 2.5 ulp, and one correction makes it exact): the host gives texel
// configurations only dispatches whose dividends stay under 2^21
// (convTexelDivisions).
struct Divisor {
    uint d;
    float inv;
};
Divisor divisor(uint d) { return Divisor(d, 1.0 / float(d)); }

// udiv is a / v.d, rounded down.
uint udiv(uint a, Divisor v) {
#ifdef TILE_TEXEL
    uint q = uint(float(a) * v.inv);
    int r = int(a) - int(q * v.d);
    return r < 0 ? q - 1u : (r >= int(v.d) ? q + 1u : q);
#else
    return a / v.d;
#endif
}

// ceilDiv is ceil(a/b) for b > 0 without overflow.
uint ceilDiv(uint a, uint b) { return a / b + uint(a % b != 0u); }

#endif
