// dx[n][c][h][w] = sum over k, r, s of w[k][c][r][s] * dy[n][k][oh][ow] with
// oh = (h+PadH-r)/StrideH and ow = (w+PadW-s)/StrideW wherever the divisions
// are exact and land inside dy: the gather form of the transposed
// convolution, so every dx element is written once (no atomics).
//
// conv2d_bwd_data, built by the host once per tiling TILE it runs, is an
// implicit GEMM on the tile engine of gemm_tile.h, split by stride phase so
// that no work is spent on taps that do not divide: phase (a, b) =
// get_group_id(2) = a*StrideW + b covers the pixels with (h+PadH) % StrideH
// == a and (w+PadW) % StrideW == b, whose only taps are r = a + i*StrideH,
// s = b + i2*StrideW. Per phase: rows m = c (C of them), columns = its
// N*Hph*Wph pixels, reduction over (k, i, i2). Both operands load
// "stationary". Work sizes: gemm over M = C, N = N*ceil(H/StrideH)*
// ceil(W/StrideW), times StrideH*StrideW in dimension 2. Args: params, dy,
// w, dx (overwritten), wt (the transposed weights when usewt, else unused),
// usewt, ym. With p.MaskRelu every dy element is read masked as relu_bwd by
// the ReLU output ym (ym > 0 ? dy : 0), the run copies too; without it ym
// is dy, unread. The tile order: TL_TILE_ORIGIN.
#include "params.h"
#include "gemm_tile.h"

#if TILE_DIRECT
#error "conv2d_bwd_data has no direct body (TILE_DIRECT must be 0)"
#endif

// Element o of dy, masked when p.MaskRelu.
#define CONVBD_DY(o) ((!p.MaskRelu || ym[o] > 0.0f) ? dy[o] : 0.0f)

// Reduction-row terms from the counters (bk, bi, bj) of gk = (k*Rph + i)*Sph + i2.
#define CONVBD_ROW                                                              \
    const bool kin_ = gk < KRS;                                                 \
    const int woff_ = (int)(bk * CRS + (a + bi * sh) * p.S + b + bj * sw);      \
    const int dyoff_ = (int)(bk * OHW);                                         \
    const int i_h = (int)bi;                                                    \
    const int i_w = (int)bj;
#define CONVBD_ADV(CF) TL_ADV3(CF, CF##_MWG, bk, bi, bj, Rph, Sph)

// Row (k, i, i2) of both slabs: the weights of the work-item's channels,
// and its pixel columns of dy, as one contiguous run when they are
// neighbours in one row (stride 1) and the run lies inside dy.
#define CONVBD_FILL(CF, kk)                                                     \
    if (!kin_) {                                                                \
        TL_FILL_ZERO(CF, As, CF##_MWG, kk)                                      \
        TL_FILL_ZERO(CF, Bs, CF##_NWG, kk)                                      \
    } else {                                                                    \
        TL_FILL_EACH(CF, As, CF##_MWG, kk, w[woff_ + ac[j]])                    \
        CONVBD_FILLB(CF, kk)                                                    \
    }
#define CONVBD_FILLB(CF, kk)                                                    \
    if (runok && (uint)(chq[0] - i_h) >= p.OH) {                                \
        TL_FILL_ZERO(CF, Bs, CF##_NWG, kk)                                      \
    } else if (runok) {                                                         \
        const int ow_ = cwq[0] - i_w;                                           \
        const int ro_ = cb[0] + dyoff_ - i_h * (int)p.OW - i_w;                 \
        if (ow_ >= 0 && ow_ + TL_SPW(CF, CF##_NWG) <= (int)p.OW) {              \
            if (p.MaskRelu) {                                                   \
                TL_FILL_RUN_MASKED(CF, Bs, CF##_NWG, kk, dy + ro_, ym + ro_)    \
            } else {                                                            \
                TL_FILL_RUN(CF, Bs, CF##_NWG, kk, dy + ro_)                     \
            }                                                                   \
        } else {                                                                \
            TL_FILL_EACH(CF, Bs, CF##_NWG, kk, (uint)(ow_ + j) < p.OW ? CONVBD_DY(ro_ + j) : 0.0f) \
        }                                                                       \
    } else {                                                                    \
        TL_FILL_EACH(CF, Bs, CF##_NWG, kk,                                      \
                     ((uint)(chq[j] - i_h) < p.OH && (uint)(cwq[j] - i_w) < p.OW) \
                         ? CONVBD_DY(cb[j] + dyoff_ - i_h * (int)p.OW - i_w) : 0.0f) \
    }

// With stride 1 the launcher may pass the weights transposed to wt[c][k][r][s]
// (usewt = 1, made by conv2d_bwd_data_wt): the A operand is then a plain
// row-major C x KRS matrix, so a full slab is copied with vector loads as
// in the forward pass and only the dy slab is gathered.
#define CONVBD_LOAD(CF, k0)                                                     \
    if (usewt && fullM && (k0) + CF##_KWG <= KRS) {                             \
        TL_COPY_KFAST(CF, As, CF##_MWG, wt + m0 * KRS + (k0), KRS)              \
        TL_LOAD_ROWS(CF, CF##_MWG, k0, CONVBD_ROW, CONVBD_ADV(CF), CONVBD_FILLB) \
    } else {                                                                    \
        TL_LOAD_ROWS(CF, CF##_MWG, k0, CONVBD_ROW, CONVBD_ADV(CF), CONVBD_FILL) \
    }

// Column gn of the phase is pixel (n, ha + th*sh, wb + tw*sw).
#define CONVBD_STORE(gm, gn, v)                                                 \
    {                                                                           \
        const uint n_ = (gn) / HWph, t_ = (gn) - n_ * HWph, th_ = t_ / Wph;     \
        dx[(n_ * p.C + (gm)) * HW + (ha + th_ * sh) * p.W + wb + (t_ - th_ * Wph) * sw] = (v); \
    }

#define CONVBD_STOREV(CF, gm, gn, v)                                            \
    {                                                                           \
        const uint n_ = (gn) / HWph, q_ = (gn) - n_ * HWph;                     \
        if (sh == 1u && sw == 1u && q_ + CF##_VW <= HW) {                       \
            TL_VSTORE(CF)(v, 0, dx + (n_ * p.C + (gm)) * HW + q_);              \
        } else {                                                                \
            float e_[CF##_VW];                                                  \
            TL_VSTORE(CF)(v, 0, e_);                                            \
            for (int l_ = 0; l_ < CF##_VW; l_++) CONVBD_STORE(gm, (gn) + l_, e_[l_]) \
        }                                                                       \
    }

#define CONVBD_BODY(CF)                                                         \
    TL_DECLARE(CF)                                                              \
    const uint sh = p.StrideH, sw = p.StrideW, OHW = p.OH * p.OW;               \
    const uint HW = p.H * p.W, RS = p.R * p.S, CRS = p.C * RS;                  \
    const uint a = (uint)get_group_id(2) / sw, b = (uint)get_group_id(2) % sw;  \
    const uint ha = (a + sh - p.PadH % sh) % sh, wb = (b + sw - p.PadW % sw) % sw; \
    const uint Hph = p.H > ha ? (p.H - ha + sh - 1u) / sh : 0u;                 \
    const uint Wph = p.W > wb ? (p.W - wb + sw - 1u) / sw : 0u;                 \
    const uint Rph = p.R > a ? (p.R - a + sh - 1u) / sh : 0u;                   \
    const uint Sph = p.S > b ? (p.S - b + sw - 1u) / sw : 0u;                   \
    const uint HWph = Hph * Wph, NPIX = p.N * HWph, KRS = p.K * Rph * Sph;      \
    TL_TILE_ORIGIN(CF, p.C)                                                     \
    if (n0 >= NPIX) return;                                                     \
    const bool fullM = m0 + CF##_MWG <= p.C;                                    \
    int ac[TL_SPW(CF, CF##_MWG)];                                               \
    for (int j = 0; j < TL_SPW(CF, CF##_MWG); j++) {                            \
        const uint c = m0 + (uint)TL_SR(CF, CF##_MWG, j);                       \
        ac[j] = (int)(min(c, p.C - 1u) * RS);                                   \
    }                                                                           \
    int chq[TL_SPW(CF, CF##_NWG)], cwq[TL_SPW(CF, CF##_NWG)], cb[TL_SPW(CF, CF##_NWG)]; \
    for (int j = 0; j < TL_SPW(CF, CF##_NWG); j++) {                            \
        const uint col = min(n0 + (uint)TL_SR(CF, CF##_NWG, j), NPIX - 1u);     \
        const uint n = col / max(HWph, 1u), t = col - n * HWph, th = t / max(Wph, 1u); \
        chq[j] = (int)((ha + th * sh + p.PadH - a) / sh);                       \
        cwq[j] = (int)((wb + (t - th * Wph) * sw + p.PadW - b) / sw);           \
        cb[j] = (int)(n * p.K * OHW) + chq[j] * (int)p.OW + cwq[j];             \
    }                                                                           \
    const uint rc0_ = n0 + (uint)TL_SR(CF, CF##_NWG, 0);                        \
    const uint rc1_ = rc0_ + (uint)TL_SPW(CF, CF##_NWG) - 1u;                   \
    const bool runok = TL_SPW(CF, CF##_NWG) > 1 && sw == 1u && rc1_ < NPIX &&   \
                       rc0_ / Wph == rc1_ / Wph;                                \
    const uint rsph_ = max(Rph * Sph, 1u), g0_ = TL_GK0(CF, CF##_MWG, 0u);      \
    uint bk = g0_ / rsph_, bi = (g0_ - bk * rsph_) / max(Sph, 1u);              \
    uint bj = g0_ - bk * rsph_ - bi * Sph;                                      \
    TL_LOOP(CF, 0, KRS, CONVBD_LOAD)                                            \
    TL_STORE_EACH(CF, m0, p.C, n0, NPIX, CONVBD_STORE, CONVBD_STOREV)

__kernel __attribute__((reqd_work_group_size(TILE_NDIMC, TILE_MDIMC, 1)))
void conv2d_bwd_data(const Conv2DBwdDataParams p, __global const float* restrict dy,
                     __global const float* restrict w, __global float* restrict dx,
                     __global const float* restrict wt, const uint usewt, __global const float* restrict ym) {
    CONVBD_BODY(TILE)
}
