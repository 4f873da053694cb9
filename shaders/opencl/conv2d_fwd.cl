// y[n][k][oh][ow] = b[k] + sum over c, r, s of w[k][c][r][s] *
// x[n][c][oh*StrideH-PadH+r][ow*StrideW-PadW+s] (zero outside x), as an
// implicit GEMM on the tile engine of gemm_tile.h: rows m = k (K of them),
// columns = the N*OH*OW output pixels, reduction over C*R*S. The weights are
// a plain row-major K x CRS operand; the im2col operand is never stored:
// every work-item precomputes the input coordinates of the pixel columns it
// loads and adds the (c, r, s) offset of each reduction row. The host builds
// kernel conv2d_fwd once per tiling TILE (gemm_tile.h) it runs, with the
// work sizes of gemm over M = K, N = N*OH*OW. Args: params, x, w, b, y and,
// for the CPU body (TILE_CPU), wt: the weights transposed by conv2d_fwd_wt.
#include "params.h"
#include "gemm_tile.h"

#if TILE_DIRECT
#error "conv2d_fwd has no direct body (TILE_DIRECT must be 0)"
#endif

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

// The stores add the bias and, with p.Relu, clamp as relu_fwd (v > 0 ? v : 0).
#define CONVF_STORE(gm, gn, v)                                                  \
    {                                                                           \
        const uint n_ = (gn) / OHW;                                             \
        const float o_ = (v) + b[gm];                                           \
        y[(n_ * K + (gm)) * OHW + ((gn) - n_ * OHW)] = (p.Relu && !(o_ > 0.0f)) ? 0.0f : o_; \
    }

#define CONVF_STOREV(CF, gm, gn, v)                                             \
    {                                                                           \
        const uint n_ = (gn) / OHW, q_ = (gn) - n_ * OHW;                       \
        if (q_ + CF##_VW <= OHW) {                                              \
            TL_VEC(CF) o_ = (v) + b[gm];                                         \
            if (p.Relu) o_ = select((TL_VEC(CF))(0.0f), o_, o_ > (TL_VEC(CF))(0.0f)); \
            TL_VSTORE(CF)(o_, 0, y + (n_ * K + (gm)) * OHW + q_);               \
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
    TL_TILE_ORIGIN(CF, K)                                                       \
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

// CPU variant of the body: the x slab is filled by blocks of CVFB_NC
// neighbouring pixels (columns) times KWG/RG reduction rows per work-item
// (column group cg_ = lid % CG, row group rg_ = lid / CG, rows kk = rg_ +
// RG*i), so that the row terms are computed once per CVFB_NC elements.
// The block's input addresses cb[j] + koff_ split into at most CVFB_NSEG
// runs of consecutive addresses (vec: e.g. stride 1 and a block spanning
// at most three output rows): then the row is one vector load per run,
// merged by lane, and masked to zero outside the input (the loads stay
// inside x, else the element path runs). Otherwise element by element,
// without checks when every window lies inside the input (inner). Columns
// past the end continue the last run and are masked: never stored.
#define CVFB_NC 16
#define CVFB_CG(CF) (CF##_NWG / CVFB_NC)
#define CVFB_RG(CF) (TL_WGS(CF) / CVFB_CG(CF))

#define CVFB_LOAD(CF, k0)                                                       \
    if (fullM && (k0) + CF##_KWG <= CRS) {                                      \
        TL_COPY_RFAST(CF, As, CF##_MWG, wt + (k0) * K + m0, K)                  \
    } else {                                                                    \
        TL_LOAD(CF, As, CF##_MWG, m0, K, k0, CRS, 1, w[gr * CRS + gk])          \
    }                                                                           \
    for (int i_ = 0; i_ < CF##_KWG / CVFB_RG(CF); i_++) {                       \
        const int kk_ = rg_ + i_ * CVFB_RG(CF);                                 \
        __local float* d_ = Bs + kk_ * CF##_NWG + cg_ * CVFB_NC;                \
        const int r_ = (int)fr, s_ = (int)fs;                                   \
        const int koff_ = (int)(fc * HW + fr * W + fs);                         \
        if ((k0) + (uint)kk_ >= CRS) {                                          \
            vstore16((float16)(0.0f), 0, d_);                                   \
        } else if (vec && bmin + koff_ >= 0 && bmax + koff_ <= xend) {          \
            float16 v_ = vload16(0, x + b0 + koff_);                            \
            v_ = select(v_, vload16(0, x + b1 + koff_), l1m);                   \
            v_ = select(v_, vload16(0, x + b2 + koff_), l2m);                   \
            const int16 ok_ = (convert_uint16(cihv + r_) < (uint16)(H)) &       \
                              (convert_uint16(ciwv + s_) < (uint16)(W));        \
            vstore16(select((float16)(0.0f), v_, ok_), 0, d_);                  \
        } else if (inner) {                                                     \
            _Pragma("unroll") for (int j = 0; j < CVFB_NC; j++) d_[j] = x[cb[j] + koff_]; \
        } else {                                                                \
            _Pragma("unroll") for (int j = 0; j < CVFB_NC; j++)                 \
                d_[j] = ((uint)(cih[j] + r_) < H && (uint)(ciw[j] + s_) < W)    \
                            ? x[cb[j] + koff_] : 0.0f;                          \
        }                                                                       \
        fs += CVFB_RG(CF);                                                      \
        while (fs >= S) { fs -= S; fr++; }                                      \
        while (fr >= p.R) { fr -= p.R; fc++; }                                  \
    }

#define CVFB_NSEG 3
#define CVFB_BODY(CF)                                                           \
    TL_DECLARE(CF)                                                              \
    const uint H = p.H, W = p.W, K = p.K, S = p.S, OHW = p.OH * p.OW;           \
    const uint HW = H * W, RS = p.R * S, CRS = p.C * RS, NPIX = p.N * OHW;      \
    const int xend = (int)(p.N * p.C * HW) - CVFB_NC;                           \
    TL_TILE_ORIGIN(CF, K)                                                       \
    const bool fullM = m0 + CF##_MWG <= K;                                      \
    const int cg_ = lid % CVFB_CG(CF), rg_ = lid / CVFB_CG(CF);                 \
    int cih[CVFB_NC], ciw[CVFB_NC], cb[CVFB_NC], lane[CVFB_NC];                 \
    bool inner = true;                                                          \
    int nseg = 1, b0 = 0, b1 = 0, b2 = 0, s1 = CVFB_NC, s2 = CVFB_NC;           \
    for (int j = 0; j < CVFB_NC; j++) {                                         \
        const uint col = n0 + (uint)(cg_ * CVFB_NC + j);                        \
        lane[j] = j;                                                            \
        if (col >= NPIX && j > 0) {                                             \
            cih[j] = -(1 << 28);                                                \
            ciw[j] = 0;                                                         \
            cb[j] = cb[j - 1] + 1;                                              \
            inner = false;                                                      \
            continue;                                                           \
        }                                                                       \
        const uint cl = min(col, NPIX - 1u);                                    \
        const uint n = cl / OHW, q = cl - n * OHW, oh = q / p.OW;               \
        cih[j] = (int)(oh * p.StrideH) - (int)p.PadH;                           \
        ciw[j] = (int)((q - oh * p.OW) * p.StrideW) - (int)p.PadW;              \
        cb[j] = (int)(n * p.C * HW) + cih[j] * (int)W + ciw[j];                 \
        inner = inner && cih[j] >= 0 && cih[j] + (int)p.R <= (int)H && ciw[j] >= 0 && \
                ciw[j] + (int)S <= (int)W;                                      \
        if (j == 0) {                                                           \
            b0 = cb[0];                                                         \
        } else if (cb[j] != cb[j - 1] + 1) {                                    \
            nseg++;                                                             \
            if (nseg == 2) { s1 = j; b1 = cb[j] - j; }                          \
            if (nseg == 3) { s2 = j; b2 = cb[j] - j; }                          \
        }                                                                       \
    }                                                                           \
    if (nseg < 2) b1 = b0;                                                      \
    if (nseg < 3) b2 = b1;                                                      \
    const bool vec = nseg <= CVFB_NSEG;                                         \
    const int bmin = min(b0, min(b1, b2)), bmax = max(b0, max(b1, b2));         \
    const int16 lanev = vload16(0, lane);                                       \
    const int16 l1m = lanev >= (int16)(s1), l2m = lanev >= (int16)(s2);         \
    const int16 cihv = vload16(0, cih), ciwv = vload16(0, ciw);                 \
    uint fc = (uint)rg_ / RS, fr = (uint)rg_ - fc * RS;                         \
    uint fs = fr % S;                                                           \
    fr /= S;                                                                    \
    TL_LOOP(CF, 0, CRS, CVFB_LOAD)                                              \
    TL_STORE_EACH(CF, m0, K, n0, NPIX, CONVF_STORE, CONVF_STOREV)

#if TILE_CPU
__kernel __attribute__((reqd_work_group_size(TILE_NDIMC, TILE_MDIMC, 1)))
void conv2d_fwd(const Conv2DFwdParams p, __global const float* restrict x, __global const float* restrict w,
                __global const float* restrict b, __global float* restrict y, __global const float* restrict wt) {
    CVFB_BODY(TILE)
}
#else
__kernel __attribute__((reqd_work_group_size(TILE_NDIMC, TILE_MDIMC, 1)))
void conv2d_fwd(const Conv2DFwdParams p, __global const float* restrict x, __global const float* restrict w,
                __global const float* restrict b, __global float* restrict y) {
    CONVF_BODY(TILE)
}
#endif
