// The tile engine of gemm and the three convolutions (as implicit GEMMs):
// C[M][N] = sum over k of A[m][k] * B[k][n], one TM x TN tile of C per
// work-group, each invocation accumulating an RM x RN block (RM = TM/WY,
// RN = TN/WX) in registers. Two paths, chosen by DIRECT:
// - staged (DIRECT = 0): TK-deep slices of A and B staged in shared memory
//   between barriers (for GPUs); invocation (x, y) owns rows y + i*WY and
//   columns x + j*WX of the tile.
// - direct (DIRECT = 1): no shared memory and no barriers (for CPU drivers,
//   which run a barrier as a coroutine switch); invocation (x, y) owns rows
//   y*RM + i and column groups of VW adjacent columns x*VW + j*WX*VW, and
//   reads its operands straight from global memory, TK k-steps unrolled per
//   loop trip. With TILE_SUBGROUP defined (the <kernel>_sg modules) the
//   eight lanes of each subgroup load eight rows of A at once and share them
//   by broadcast (RM % 8 == 0, WX a multiple of the subgroup size). VW = 4
//   needs the kernel's loadB4.
//
// Specialization constants: 0, 1 = work-group size WX, WY; 2, 3, 4 = TM,
// TN, TK; 5 = DIRECT; 6 = VW; 7 = TRANS (gemm_tile_spec.glsl). The host (backend/vulkan, tileCfg) is the one
// source of their values and checks them. Work-group (x, y) computes rows
// gl_WorkGroupID.y*TM.. and columns gl_WorkGroupID.x*TN..
//
// Before including this file a shader includes common.glsl and defines
//   float loadA(uint m, uint k);   element (m, k) of A, m < M, k < kEnd
//   float loadB(uint k, uint n);   element (k, n) of B, k < kEnd, n < N
//   void storeC(uint m, uint n, float v);   result for m < M, n < N
// and optionally TILE_LOADB4 with vec4 loadB4(uint k, uint n) (elements
// (k, n..n+3)), vec4 loadA4(uint m, uint k) (elements (m, k..k+3)) and, for
// the transposed layouts of TRANS, vec4 loadA4M(uint m, uint k) (elements
// (m..m+3, k)) and vec4 loadB4K(uint k, uint n) (elements (k..k+3, n)),
// and then calls gemmTile(M, N, kBegin, kEnd, aKMajor,
// bNMajor) from main. aKMajor says consecutive k of A are adjacent in
// memory (else consecutive m), bNMajor that consecutive n of B are (else
// consecutive k): staged tiles are loaded so that neighbouring invocations
// read neighbouring addresses.
#ifndef CROSSGRAD_GEMM_TILE_GLSL
#define CROSSGRAD_GEMM_TILE_GLSL

#include "gemm_tile_spec.glsl"

// Rows of the shared tiles are padded by one element so that stores along
// k do not all fall into one memory bank.
const uint AS = TM + 1u;
const uint BS = TN + 1u;

// The direct path uses no shared memory: the arrays shrink to one element.
shared float As[(TK * AS - 1u) * (1u - DIRECT) + 1u];
shared float Bs[(TK * BS - 1u) * (1u - DIRECT) + 1u];

// DIRECT_STEP(kc) adds the products of step kc to acc, the register block
// of the direct path (element (i, c) at i*RN + c for column c = j*VW + e of
// column group j), for the rows from row0 and the column groups from col0
// (indices clamped into the matrix: rows and columns past the edge compute
// values that are never stored). A macro, not a function: acc must stay a
// local array for the compiler to keep it in registers.
//
// DIRECT_LOAD_B4N(k, j) fills column group j's four B values at step k:
// one vec4 with loadB4, else (TILE_LOADA4: only A has 4-wide loads) four
// single loads.
#ifdef TILE_LOADB4
#define DIRECT_LOAD_B4N(k, j) \
    vec4 v = loadB4(k, min(col0 + j * WX * 4u, N - 4u)); \
    bv[4u * j] = v.x; \
    bv[4u * j + 1u] = v.y; \
    bv[4u * j + 2u] = v.z; \
    bv[4u * j + 3u] = v.w;
#define DIRECT_LOAD_B4(kc, j) \
    if (VW == 4u && !B4_ALONG_K) { \
        DIRECT_LOAD_B4N(kc, j) \
    } else
#elif defined(TILE_LOADA4)
#define DIRECT_LOAD_B4N(k, j) \
    [[unroll]] for (uint e = 0u; e < 4u; e++) { \
        bv[4u * j + e] = loadB(k, min(col0 + j * WX * 4u + e, N - 1u)); \
    }
#define DIRECT_LOAD_B4(kc, j) \
    if (VW == 4u) { \
        DIRECT_LOAD_B4N(kc, j) \
    } else
#else
#define DIRECT_LOAD_B4(kc, j)
#endif
#ifdef TILE_SUBGROUP
#define DIRECT_LOAD_A(kc) \
    [[unroll]] for (uint r = 0u; r < RM / 8u; r++) { \
        float v = loadA(min(row0 + 8u * r + lane, M - 1u), kc); \
        av[8u * r] = subgroupBroadcast(v, 0u); \
        av[8u * r + 1u] = subgroupBroadcast(v, 1u); \
        av[8u * r + 2u] = subgroupBroadcast(v, 2u); \
        av[8u * r + 3u] = subgroupBroadcast(v, 3u); \
        av[8u * r + 4u] = subgroupBroadcast(v, 4u); \
        av[8u * r + 5u] = subgroupBroadcast(v, 5u); \
        av[8u * r + 6u] = subgroupBroadcast(v, 6u); \
        av[8u * r + 7u] = subgroupBroadcast(v, 7u); \
    }
#else
#define DIRECT_LOAD_A(kc) \
    [[unroll]] for (uint i = 0u; i < RM; i++) { \
        av[i] = loadA(min(row0 + i, M - 1u), kc); \
    }
#endif
#define DIRECT_STEP(kc) { \
    float bv[RN]; \
    [[unroll]] for (uint j = 0u; j < RN / VW; j++) { \
        DIRECT_LOAD_B4(kc, j) { \
            bv[j] = loadB(kc, min(col0 + j * WX * VW, N - VW)); \
        } \
    } \
    float av[RM]; \
    DIRECT_LOAD_A(kc) \
    [[unroll]] for (uint i = 0u; i < RM; i++) { \
        [[unroll]] for (uint c = 0u; c < RN; c++) { \
            acc[i * RN + c] = fma(av[i], bv[c], acc[i * RN + c]); \
        } \
    } \
}

#if defined(TILE_LOADB4) || defined(TILE_LOADA4)
#ifndef TILE_LOADB4
#define loadB4K(k, n) vec4(0.0)
#define loadA4M(m, k) vec4(0.0)
#endif
// DIRECT_STEP4(k0) is four DIRECT_STEPs k0..k0+3 with 4-wide loads (VW =
// 4: gemm, and conv2d_fwd's A only): A along k (A4_ALONG_M: along m, four rows per load, for
// all four k-steps), B along n (B4_ALONG_K: along k, one load per column
// for all four k-steps). The host checks the alignment each needs: K, N,
// M multiples of 4 as the loads run along them, RM a multiple of 4 with
// A4_ALONG_M.
#define DIRECT_LOAD_A4M(k0) \
    [[unroll]] for (uint kk = 0u; kk < 4u; kk++) { \
        [[unroll]] for (uint r = 0u; r < RM / 4u; r++) { \
            vec4 v = loadA4M(min(row0 + 4u * r, M - 4u), k0 + kk); \
            [[unroll]] for (uint e = 0u; e < 4u; e++) { \
                av[kk * RM + 4u * r + e] = v[e]; \
            } \
        } \
    }
#ifdef TILE_SUBGROUP
#define DIRECT_LOAD_A4K(k0) \
    [[unroll]] for (uint r = 0u; r < RM / 8u; r++) { \
        vec4 v = loadA4(min(row0 + 8u * r + lane, M - 1u), k0); \
        [[unroll]] for (uint kk = 0u; kk < 4u; kk++) { \
            av[kk * RM + 8u * r] = subgroupBroadcast(v[kk], 0u); \
            av[kk * RM + 8u * r + 1u] = subgroupBroadcast(v[kk], 1u); \
            av[kk * RM + 8u * r + 2u] = subgroupBroadcast(v[kk], 2u); \
            av[kk * RM + 8u * r + 3u] = subgroupBroadcast(v[kk], 3u); \
            av[kk * RM + 8u * r + 4u] = subgroupBroadcast(v[kk], 4u); \
            av[kk * RM + 8u * r + 5u] = subgroupBroadcast(v[kk], 5u); \
            av[kk * RM + 8u * r + 6u] = subgroupBroadcast(v[kk], 6u); \
            av[kk * RM + 8u * r + 7u] = subgroupBroadcast(v[kk], 7u); \
        } \
    }
#else
#define DIRECT_LOAD_A4K(k0) \
    [[unroll]] for (uint i = 0u; i < RM; i++) { \
        vec4 v = loadA4(min(row0 + i, M - 1u), k0); \
        [[unroll]] for (uint kk = 0u; kk < 4u; kk++) { \
            av[kk * RM + i] = v[kk]; \
        } \
    }
#endif
#define DIRECT_STEP4(k0) { \
    float av[4u * RM]; \
    if (A4_ALONG_M) { \
        DIRECT_LOAD_A4M(k0) \
    } else { \
        DIRECT_LOAD_A4K(k0) \
    } \
    vec4 bk[RN]; \
    if (B4_ALONG_K) { \
        [[unroll]] for (uint j = 0u; j < RN / 4u; j++) { \
            [[unroll]] for (uint e = 0u; e < 4u; e++) { \
                bk[4u * j + e] = loadB4K(k0, min(col0 + j * WX * 4u + e, N - 1u)); \
            } \
        } \
    } \
    [[unroll]] for (uint kk = 0u; kk < 4u; kk++) { \
        float bv[RN]; \
        if (B4_ALONG_K) { \
            [[unroll]] for (uint c = 0u; c < RN; c++) { \
                bv[c] = bk[c][kk]; \
            } \
        } else { \
            [[unroll]] for (uint j = 0u; j < RN / 4u; j++) { \
                DIRECT_LOAD_B4N(k0 + kk, j) \
            } \
        } \
        [[unroll]] for (uint i = 0u; i < RM; i++) { \
            [[unroll]] for (uint c = 0u; c < RN; c++) { \
                acc[i * RN + c] = fma(av[kk * RM + i], bv[c], acc[i * RN + c]); \
            } \
        } \
    } \
}
#endif

// gemmDirect is the direct path of gemmTile.
void gemmDirect(uint M, uint N, uint kBegin, uint kEnd) {
    if (gl_WorkGroupID.y * TM >= M || gl_WorkGroupID.x * TN >= N) {
        return;
    }
    uint row0 = gl_WorkGroupID.y * TM + gl_LocalInvocationID.y * RM;
    uint col0 = gl_WorkGroupID.x * TN + gl_LocalInvocationID.x * VW;
#ifdef TILE_SUBGROUP
    uint lane = gl_SubgroupInvocationID & 7u;
#endif
    float acc[RM * RN];
    [[unroll]] for (uint i = 0u; i < RM * RN; i++) {
        acc[i] = 0.0;
    }
    uint k = kBegin;
#if defined(TILE_LOADB4) || defined(TILE_LOADA4)
    if (VW == 4u) {
        for (; k + 4u <= kEnd; k += 4u) {
            DIRECT_STEP4(k)
        }
    }
#endif
    for (; k + TK <= kEnd; k += TK) {
        [[unroll]] for (uint kk = 0u; kk < TK; kk++) {
            DIRECT_STEP(k + kk)
        }
    }
    if (TK > 1u) {
        for (; k < kEnd; k++) {
            DIRECT_STEP(k)
        }
    }
    // Unrolled, so that acc is only ever indexed by constants.
    [[unroll]] for (uint i = 0u; i < RM; i++) {
        [[unroll]] for (uint j = 0u; j < RN / VW; j++) {
            [[unroll]] for (uint e = 0u; e < VW; e++) {
                uint m = row0 + i;
                uint n = col0 + j * WX * VW + e;
                if (m < M && n < N) {
                    storeC(m, n, acc[i * RN + j * VW + e]);
                }
            }
        }
    }
}

void gemmTile(uint M, uint N, uint kBegin, uint kEnd, bool aKMajor, bool bNMajor) {
#ifdef TILE_DIRECT_ONLY
    gemmDirect(M, N, kBegin, kEnd);
#else
    if (DIRECT != 0u) {
        gemmDirect(M, N, kBegin, kEnd);
        return;
    }
    uint tx = gl_LocalInvocationID.x;
    uint ty = gl_LocalInvocationID.y;
    uint tid = ty * WX + tx;
    uint m0 = gl_WorkGroupID.y * TM;
    uint n0 = gl_WorkGroupID.x * TN;
    if (m0 >= M || n0 >= N) {
        return; // uniform in the work-group: no barrier is skipped by part of it
    }
    float acc[RM * RN];
    for (uint i = 0u; i < RM * RN; i++) {
        acc[i] = 0.0;
    }
    for (uint k0 = kBegin; k0 < kEnd; k0 += TK) {
        for (uint e = tid; e < TM * TK; e += NT) {
            uint mm = aKMajor ? e / TK : e % TM;
            uint kk = aKMajor ? e % TK : e / TM;
            uint gm = m0 + mm;
            uint gk = k0 + kk;
            float v = 0.0;
            if (gm < M && gk < kEnd) {
                v = loadA(gm, gk);
            }
            As[kk * AS + mm] = v;
        }
        for (uint e = tid; e < TN * TK; e += NT) {
            uint nn = bNMajor ? e % TN : e / TK;
            uint kk = bNMajor ? e / TN : e % TK;
            uint gn = n0 + nn;
            uint gk = k0 + kk;
            float v = 0.0;
            if (gn < N && gk < kEnd) {
                v = loadB(gk, gn);
            }
            Bs[kk * BS + nn] = v;
        }
        barrier();
        for (uint kk = 0u; kk < TK; kk++) {
            float a[RM];
            float b[RN];
            for (uint i = 0u; i < RM; i++) {
                a[i] = As[kk * AS + ty + i * WY];
            }
            for (uint j = 0u; j < RN; j++) {
                b[j] = Bs[kk * BS + tx + j * WX];
            }
            for (uint i = 0u; i < RM; i++) {
                for (uint j = 0u; j < RN; j++) {
                    acc[i * RN + j] = fma(a[i], b[j], acc[i * RN + j]);
                }
            }
        }
        barrier();
    }
    for (uint i = 0u; i < RM; i++) {
        uint m = m0 + ty + i * WY;
        if (m >= M) {
            continue;
        }
        for (uint j = 0u; j < RN; j++) {
            uint n = n0 + tx + j * WX;
            if (n < N) {
                storeC(m, n, acc[i * RN + j]);
            }
        }
    }
#endif
}

#endif
