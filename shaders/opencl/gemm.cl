// C = Alpha*op(A)*op(B) + Beta*C over row-major matrices (see backend.Gemm);
// with Beta == 0, C is never read. One tiling TILE of the shared tile
// engine (gemm_tile.h), set by the host, which builds this file once per
// tiling it runs (GPUs: 64x64 tiles, 16x16 work-items of 4x4; CPUs such as
// PoCL: few work-items, each with a large register block of wide vectors),
// through local-memory slabs or, with TILE_DIRECT, straight from global
// memory.
// Work-group (NDIMC, MDIMC, 1); global size (ceil(N/NWG)*NDIMC,
// ceil(M/MWG)*MDIMC, Batch): group z computes product z of a batch, whose
// operands start at z*M*K, z*K*N and z*M*N.
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
    TL_TILE_ORIGIN(CF, M)                                                       \
    const bool fullM = m0 + CF##_MWG <= M, fullN = n0 + CF##_NWG <= N;          \
    TL_LOOP(CF, 0, K, GEMM_LOAD)                                                \
    if (beta == 0.0f) {                                                         \
        TL_STORE_EACH(CF, m0, M, n0, N, GEMM_STORE, GEMM_STOREV0)               \
    } else {                                                                    \
        TL_STORE_EACH(CF, m0, M, n0, N, GEMM_STORE, GEMM_STOREV)                \
    }

// The direct body (TILE_DIRECT): no slabs, no barriers. Every work-item
// keeps the offsets of its WPTM rows of op(A) (clamped onto the last row:
// those results are never stored) and reads, per reduction index k, one
// element of each row and one VW-vector of op(B) per column vector (a
// vector load when B is not transposed and the vector lies inside B, else
// lane by lane, clamped onto the last column). KWG is the unroll depth.
#define GEMM_DIRECT_STEP(CF, k)                                                 \
    {                                                                           \
        const uint kd_ = (k);                                                   \
        TL_VEC(CF) b_[TL_NVEC(CF)];                                             \
        _Pragma("unroll") for (int v_ = 0; v_ < TL_NVEC(CF); v_++) {            \
            if (bvec[v_]) {                                                     \
                b_[v_] = TL_VLOAD(CF)(0, B + kd_ * N + bc[v_]);                 \
            } else {                                                            \
                float e_[CF##_VW];                                              \
                for (int l_ = 0; l_ < CF##_VW; l_++) {                          \
                    const uint c_ = min(bc[v_] + (uint)l_, N - 1u);             \
                    e_[l_] = p.TransB ? B[c_ * K + kd_] : B[kd_ * N + c_];      \
                }                                                               \
                b_[v_] = TL_VLOAD(CF)(0, e_);                                   \
            }                                                                   \
        }                                                                       \
        _Pragma("unroll") for (int i_ = 0; i_ < TL_WPTM(CF); i_++) {            \
            const TL_VEC(CF) a_ = (TL_VEC(CF))(A[ar[i_] + kd_ * ak]);           \
            _Pragma("unroll") for (int v_ = 0; v_ < TL_NVEC(CF); v_++)          \
                acc[i_][v_] = fma(a_, b_[v_], acc[i_][v_]);                     \
        }                                                                       \
    }

#define GEMM_DIRECT_BODY(CF)                                                    \
    TL_DECLARE_REGS(CF)                                                         \
    const uint M = p.M, N = p.N, K = p.K;                                       \
    const float alpha = p.Alpha, beta = p.Beta;                                 \
    TL_TILE_ORIGIN(CF, M)                                                       \
    uint ar[TL_WPTM(CF)], bc[TL_NVEC(CF)];                                      \
    bool bvec[TL_NVEC(CF)];                                                     \
    const uint ak = p.TransA ? M : 1u;                                          \
    for (int i_ = 0; i_ < TL_WPTM(CF); i_++) {                                  \
        const uint r_ = min(m0 + (uint)TL_ROW(CF, ty, i_), M - 1u);             \
        ar[i_] = p.TransA ? r_ : r_ * K;                                        \
    }                                                                           \
    for (int v_ = 0; v_ < TL_NVEC(CF); v_++) {                                  \
        bc[v_] = n0 + (uint)TL_COL(CF, tx, v_);                                 \
        bvec[v_] = !p.TransB && bc[v_] + CF##_VW <= N;                          \
    }                                                                           \
    uint k0 = 0;                                                                \
    for (; k0 + CF##_KWG <= K; k0 += CF##_KWG) {                                \
        _Pragma("unroll") for (int kk_ = 0; kk_ < CF##_KWG; kk_++)              \
            GEMM_DIRECT_STEP(CF, k0 + (uint)kk_)                                \
    }                                                                           \
    for (; k0 < K; k0++) GEMM_DIRECT_STEP(CF, k0)                               \
    if (beta == 0.0f) {                                                         \
        TL_STORE_EACH(CF, m0, M, n0, N, GEMM_STORE, GEMM_STOREV0)               \
    } else {                                                                    \
        TL_STORE_EACH(CF, m0, M, n0, N, GEMM_STORE, GEMM_STOREV)                \
    }

__kernel __attribute__((reqd_work_group_size(TILE_NDIMC, TILE_MDIMC, 1)))
void gemm(const GemmParams p, __global const float* restrict A, __global const float* restrict B,
          __global float* restrict Cm) {
    const uint z = (uint)get_group_id(2);
    A += z * p.M * p.K;
    B += z * p.K * p.N;
    Cm += z * p.M * p.N;
#if TILE_DIRECT
    GEMM_DIRECT_BODY(TILE)
#else
    GEMM_BODY(TILE)
#endif
}
