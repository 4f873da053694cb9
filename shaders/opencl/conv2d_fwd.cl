// y[n][k][oh][ow] = b[k] + sum over c, r, s of w[k][c][r][s] *
// x[n][c][oh*StrideH-PadH+r][ow*StrideW-PadW+s] (zero outside x), as an
// implicit GEMM on the tile engine of gemm_tile.h: rows m = k (K of them),
// columns = the N*OH*OW output pixels, reduction over C*R*S. The weights are
// a plain row-major K x CRS operand; the im2col operand is never stored:
// every work-item precomputes the input coordinates of the pixel columns it
// loads and adds the (c, r, s) offset of each reduction row. Kernels
// conv2d_fwd (GPU tiling TGG of gemm_tile.h) and conv2d_fwd_cpu (TGC), with
// the work sizes of gemm over M = K, N = N*OH*OW. Args: params, x, w, b, y.
#include "params.h"
#include "gemm_tile.h"

// Reduction-row terms from the counters (fc, fr, fs) of gk = (c*R + r)*S + s.
#define CONVF_ROW                                                               \
    const int r_ = (int)fr;                                                     \
    const int s_ = (int)fs;                                                     \
    const bool kin_ = gk < CRS;                                                 \
    const int koff_ = (int)(fc * HW + fr * W + fs);
#define CONVF_ADV(CF) TL_ADV3(CF, CF##_NWG, fc, fr, fs, p.R, S)

// The work-item's pixel columns of row (c, r, s). When they are neighbours
// in one output row (runok, stride 1): zeros if the input row is padding, a
// contiguous copy of x if the run lies inside the input row, else lane by
// lane with a column check. Otherwise element by element: without checks
// when the filter windows of all the work-item's pixels lie inside the
// input (inner), else with bounds checks (the zero padding). Columns past
// the end were clamped onto the last pixel: their results are never stored.
#define CONVF_FILL(CF, kk)                                                      \
    if (!kin_ || (runok && (uint)(cih[0] + r_) >= H)) {                         \
        TL_FILL_ZERO(CF, Bs, CF##_NWG, kk)                                      \
    } else if (runok) {                                                         \
        const int iw_ = ciw[0] + s_;                                            \
        if (iw_ >= 0 && iw_ + TL_SPW(CF, CF##_NWG) <= (int)W) {                 \
            TL_FILL_RUN(CF, Bs, CF##_NWG, kk, x + cb[0] + koff_)                \
        } else {                                                                \
            TL_FILL_EACH(CF, Bs, CF##_NWG, kk,                                  \
                         (uint)(iw_ + j) < W ? x[cb[0] + koff_ + j] : 0.0f)     \
        }                                                                       \
    } else if (inner) {                                                         \
        TL_FILL_EACH(CF, Bs, CF##_NWG, kk, x[cb[j] + koff_])                    \
    } else {                                                                    \
        TL_FILL_EACH(CF, Bs, CF##_NWG, kk,                                      \
                     ((uint)(cih[j] + r_) < H && (uint)(ciw[j] + s_) < W)       \
                         ? x[cb[j] + koff_] : 0.0f)                             \
    }

#define CONVF_LOAD(CF, k0)                                                      \
    if (fullM && (k0) + CF##_KWG <= CRS) {                                      \
        TL_COPY_KFAST(CF, As, CF##_MWG, w + m0 * CRS + (k0), CRS)               \
    } else {                                                                    \
        TL_LOAD(CF, As, CF##_MWG, m0, K, k0, CRS, 1, w[gr * CRS + gk])          \
    }                                                                           \
    TL_LOAD_ROWS(CF, CF##_NWG, k0, CONVF_ROW, CONVF_ADV(CF), CONVF_FILL)

#define CONVF_STORE(gm, gn, v)                                                  \
    {                                                                           \
        const uint n_ = (gn) / OHW;                                             \
        y[(n_ * K + (gm)) * OHW + ((gn) - n_ * OHW)] = (v) + b[gm];             \
    }

#define CONVF_STOREV(CF, gm, gn, v)                                             \
    {                                                                           \
        const uint n_ = (gn) / OHW, q_ = (gn) - n_ * OHW;                       \
        if (q_ + CF##_VW <= OHW) {                                              \
            TL_VSTORE(CF)((v) + b[gm], 0, y + (n_ * K + (gm)) * OHW + q_);      \
        } else {                                                                \
            float e_[CF##_VW];                                                  \
            TL_VSTORE(CF)(v, 0, e_);                                            \
            for (int l_ = 0; l_ < CF##_VW; l_++) CONVF_STORE(gm, (gn) + l_, e_[l_]) \
        }                                                                       \
    }

#define CONVF_BODY(CF)                                                          \
    TL_DECLARE(CF)                                                              \
    const uint H = p.H, W = p.W, K = p.K, S = p.S, OHW = p.OH * p.OW;           \
    const uint HW = H * W, RS = p.R * S, CRS = p.C * RS, NPIX = p.N * OHW;      \
    const uint m0 = (uint)get_group_id(1) * CF##_MWG;                           \
    const uint n0 = (uint)get_group_id(0) * CF##_NWG;                           \
    const bool fullM = m0 + CF##_MWG <= K;                                      \
    int cih[TL_SPW(CF, CF##_NWG)], ciw[TL_SPW(CF, CF##_NWG)], cb[TL_SPW(CF, CF##_NWG)]; \
    bool inner = true;                                                          \
    for (int j = 0; j < TL_SPW(CF, CF##_NWG); j++) {                            \
        const uint col = min(n0 + (uint)TL_SR(CF, CF##_NWG, j), NPIX - 1u);     \
        const uint n = col / OHW, q = col - n * OHW, oh = q / p.OW;             \
        cih[j] = (int)(oh * p.StrideH) - (int)p.PadH;                           \
        ciw[j] = (int)((q - oh * p.OW) * p.StrideW) - (int)p.PadW;              \
        cb[j] = (int)(n * p.C * HW) + cih[j] * (int)W + ciw[j];                 \
        inner = inner && cih[j] >= 0 && cih[j] + (int)p.R <= (int)H && ciw[j] >= 0 && \
                ciw[j] + (int)S <= (int)W;                                      \
    }                                                                           \
    const uint rc0_ = n0 + (uint)TL_SR(CF, CF##_NWG, 0);                        \
    const uint rc1_ = rc0_ + (uint)TL_SPW(CF, CF##_NWG) - 1u;                   \
    const bool runok = TL_SPW(CF, CF##_NWG) > 1 && p.StrideW == 1u && rc1_ < NPIX && \
                       rc0_ / p.OW == rc1_ / p.OW;                              \
    uint fc = TL_GK0(CF, CF##_NWG, 0u) / RS, fr = TL_GK0(CF, CF##_NWG, 0u) - fc * RS; \
    uint fs = fr % S;                                                           \
    fr /= S;                                                                    \
    TL_LOOP(CF, 0, CRS, CONVF_LOAD)                                             \
    TL_STORE_EACH(CF, m0, K, n0, NPIX, CONVF_STORE, CONVF_STOREV)

__kernel __attribute__((reqd_work_group_size(TGG_NDIMC, TGG_MDIMC, 1)))
void conv2d_fwd(const Conv2DFwdParams p, __global const float* restrict x, __global const float* restrict w,
                __global const float* restrict b, __global float* restrict y) {
    CONVF_BODY(TGG)
}

__kernel __attribute__((reqd_work_group_size(TGC_NDIMC, TGC_MDIMC, 1)))
void conv2d_fwd_cpu(const Conv2DFwdParams p, __global const float* restrict x, __global const float* restrict w,
                    __global const float* restrict b, __global float* restrict y) {
    CONVF_BODY(TGC)
}
