// C = Alpha*op(A)*op(B) + Beta*C over row-major matrices (see backend.Gemm);
// with Beta == 0, C is never read. One tiling TILE of the shared tile
// engine (gemm_tile.h), set by the host, which builds this file once per
// tiling it runs (GPUs: 64x64 tiles, 16x16 work-items of 4x4; CPUs such as
// PoCL: few work-items, each with a large register block of wide vectors).
// Work-group (NDIMC, MDIMC); global size (ceil(N/NWG)*NDIMC,
// ceil(M/MWG)*MDIMC).
#include "params.h"
#include "gemm_tile.h"

// Fills As with op(A)[m0.., k0..] and Bs with op(B)[k0.., n0..]; whole
// slabs use vector loads.
#define GEMM_LOAD(CF, k0)                                                       \
    {                                                                           \
        const bool fullK = (k0) + CF##_KWG <= K;                                \
        if (p.TransA) {                                                         \
            if (fullM && fullK) {                                               \
                TL_COPY_RFAST(CF, As, CF##_MWG, A + (k0) * M + m0, M)           \
            } else {                                                            \
                TL_LOAD(CF, As, CF##_MWG, m0, M, k0, K, 0, A[gk * M + gr])      \
            }                                                                   \
        } else {                                                                \
            if (fullM && fullK) {                                               \
                TL_COPY_KFAST(CF, As, CF##_MWG, A + m0 * K + (k0), K)           \
            } else {                                                            \
                TL_LOAD(CF, As, CF##_MWG, m0, M, k0, K, 1, A[gr * K + gk])      \
            }                                                                   \
        }                                                                       \
        if (p.TransB) {                                                         \
            if (fullN && fullK) {                                               \
                TL_COPY_KFAST(CF, Bs, CF##_NWG, B + n0 * K + (k0), K)           \
            } else {                                                            \
                TL_LOAD(CF, Bs, CF##_NWG, n0, N, k0, K, 1, B[gr * K + gk])      \
            }                                                                   \
        } else {                                                                \
            if (fullN && fullK) {                                               \
                TL_COPY_RFAST(CF, Bs, CF##_NWG, B + (k0) * N + n0, N)           \
            } else {                                                            \
                TL_LOAD(CF, Bs, CF##_NWG, n0, N, k0, K, 0, B[gk * N + gr])      \
            }                                                                   \
        }                                                                       \
    }

#define GEMM_STORE(gm, gn, v)                                                   \
    {                                                                           \
        const uint o_ = (gm) * N + (gn);                                        \
        Cm[o_] = beta == 0.0f ? alpha * (v) : fma(beta, Cm[o_], alpha * (v));   \
    }

#define GEMM_STOREV0(CF, gm, gn, v) TL_VSTORE(CF)(alpha * (v), 0, Cm + (gm) * N + (gn));
#define GEMM_STOREV(CF, gm, gn, v)                                              \
    TL_VSTORE(CF)(fma((TL_VEC(CF))(beta), TL_VLOAD(CF)(0, Cm + (gm) * N + (gn)), alpha * (v)), \
                 0, Cm + (gm) * N + (gn));

#define GEMM_BODY(CF)                                                           \
    TL_DECLARE(CF)                                                              \
    const uint M = p.M, N = p.N, K = p.K;                                       \
    const float alpha = p.Alpha, beta = p.Beta;                                 \
    const uint m0 = (uint)get_group_id(1) * CF##_MWG;                           \
    const uint n0 = (uint)get_group_id(0) * CF##_NWG;                           \
    const bool fullM = m0 + CF##_MWG <= M, fullN = n0 + CF##_NWG <= N;          \
    TL_LOOP(CF, 0, K, GEMM_LOAD)                                                \
    if (beta == 0.0f) {                                                         \
        TL_STORE_EACH(CF, m0, M, n0, N, GEMM_STORE, GEMM_STOREV0)               \
    } else {                                                                    \
        TL_STORE_EACH(CF, m0, M, n0, N, GEMM_STORE, GEMM_STOREV)                \
    }


__kernel __attribute__((reqd_work_group_size(TILE_NDIMC, TILE_MDIMC, 1)))
void gemm(const GemmParams p, __global const float* restrict A, __global const float* restrict B,
          __global float* restrict Cm) {
    GEMM_BODY(TILE)
}
