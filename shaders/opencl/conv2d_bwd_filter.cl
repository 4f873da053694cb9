// dw[k][c][r][s] = sum over n, oh, ow of dy[n][k][oh][ow] *
// x[n][c][oh*StrideH-PadH+r][ow*StrideW-PadW+s] (zero outside x) and
// db[k] = sum over n, oh, ow of dy[n][k][oh][ow]. Implicit GEMM on the tile
// engine of gemm_tile.h: rows m = k (K of them), columns = the C*R*S filter
// taps plus one column of ones (whose result is db), reduction over the
// N*OH*OW output pixels; both operands are loaded "stationary". The
// reduction may be split over get_group_id(2) (split-K, for few tiles and a
// long reduction): with nsplit > 1 split z covers [z*kchunk, (z+1)*kchunk)
// and writes part[z][K][CRS+1], which conv2d_bwd_filter_reduce then sums in
// split order (deterministic). Kernels conv2d_bwd_filter (GPU tiling TGG)
// and conv2d_bwd_filter_cpu (TGC): work sizes of gemm over M = K, N =
// C*R*S+1, times nsplit in dimension 2. Args: params, x, dy, dw, db, part,
// nsplit, kchunk.
#include "params.h"
#include "gemm_tile.h"

// Reduction-row terms from the counters (fn, foh, fow) of gk = (n*OH + oh)*OW + ow.
#define CONVBF_ROW                                                              \
    const int ih_ = (int)(foh * p.StrideH) - (int)p.PadH;                       \
    const int iw_ = (int)(fow * p.StrideW) - (int)p.PadW;                       \
    const bool kin_ = gk < kend;                                                \
    const int dyoff_ = (int)(fn * p.K * OHW + foh * p.OW + fow);                \
    const int xoff_ = (int)(fn * p.C * HW) + ih_ * (int)W + iw_;                \
    const bool inner_ = ih_ >= 0 && ih_ + (int)p.R <= (int)H && iw_ >= 0 && iw_ + (int)p.S <= (int)W;
#define CONVBF_ADV(CF) TL_ADV3(CF, CF##_MWG, fn, foh, fow, p.OH, p.OW)

// The x slab: no bounds checks for pixels whose whole filter window lies
// inside the image (unless the work-item holds the ones column CRS: bone =
// 1, never inside the image). Rows and columns past the end were clamped
// onto the last ones: their results are never stored.
#define CONVBF_FILLB(CF, kk)                                                    \
    if (!kin_) {                                                                \
        TL_FILL_ZERO(CF, Bs, CF##_NWG, kk)                                      \
    } else if (inner_ && !hasOne) {                                             \
        TL_FILL_EACH(CF, Bs, CF##_NWG, kk, x[xoff_ + bo[j]])                    \
    } else {                                                                    \
        TL_FILL_EACH(CF, Bs, CF##_NWG, kk,                                      \
                     ((uint)(ih_ + br[j]) < H && (uint)(iw_ + bs[j]) < W)       \
                         ? x[xoff_ + bo[j]] : bone[j])                          \
    }

// Both slabs.
#define CONVBF_FILL(CF, kk)                                                     \
    if (kin_) {                                                                 \
        TL_FILL_EACH(CF, As, CF##_MWG, kk, dy[dyoff_ + ak[j]])                  \
    } else {                                                                    \
        TL_FILL_ZERO(CF, As, CF##_MWG, kk)                                      \
    }                                                                           \
    CONVBF_FILLB(CF, kk)

// A slab of pixels inside one image and a full tile of rows: the dy slab
// is the K-strided rows of one image plane, copied with vector loads.
#define CONVBF_LOAD(CF, k0)                                                     \
    {                                                                           \
        const uint ni_ = (k0) / OHW, q0_ = (k0) - ni_ * OHW;                    \
        if (fullM && q0_ + CF##_KWG <= OHW && (k0) + CF##_KWG <= kend) {        \
            TL_COPY_KFAST(CF, As, CF##_MWG, dy + (ni_ * p.K + m0) * OHW + q0_, OHW) \
            TL_LOAD_ROWS(CF, CF##_MWG, k0, CONVBF_ROW, CONVBF_ADV(CF), CONVBF_FILLB) \
        } else {                                                                \
            TL_LOAD_ROWS(CF, CF##_MWG, k0, CONVBF_ROW, CONVBF_ADV(CF), CONVBF_FILL) \
        }                                                                       \
    }

// Column CRS of the result is db; with splits, everything goes to part.
#define CONVBF_STORE(gm, gn, v)                                                 \
    {                                                                           \
        if (nsplit > 1u) part[(get_group_id(2) * p.K + (gm)) * (CRS + 1u) + (gn)] = (v); \
        else if ((gn) < CRS) dw[(gm) * CRS + (gn)] = (v);                       \
        else db[gm] = (v);                                                      \
    }

#define CONVBF_STOREV(CF, gm, gn, v)                                            \
    {                                                                           \
        if (nsplit > 1u) {                                                      \
            TL_VSTORE(CF)(v, 0, part + (get_group_id(2) * p.K + (gm)) * (CRS + 1u) + (gn)); \
        } else if ((gn) + CF##_VW <= CRS) {                                     \
            TL_VSTORE(CF)(v, 0, dw + (gm) * CRS + (gn));                        \
        } else {                                                                \
            float e_[CF##_VW];                                                  \
            TL_VSTORE(CF)(v, 0, e_);                                            \
            for (int l_ = 0; l_ < CF##_VW; l_++) CONVBF_STORE(gm, (gn) + l_, e_[l_]) \
        }                                                                       \
    }

#define CONVBF_BODY(CF)                                                         \
    TL_DECLARE(CF)                                                              \
    const uint H = p.H, W = p.W, HW = H * W, OHW = p.OH * p.OW;                 \
    const uint RS = p.R * p.S, CRS = p.C * RS, RED = p.N * OHW;                 \
    const uint kbeg = (uint)get_group_id(2) * kchunk;                           \
    const uint kend = min(RED, kbeg + kchunk);                                  \
    const uint m0 = (uint)get_group_id(1) * CF##_MWG;                           \
    const uint n0 = (uint)get_group_id(0) * CF##_NWG;                           \
    const bool fullM = m0 + CF##_MWG <= p.K;                                    \
    int ak[TL_SPW(CF, CF##_MWG)];                                               \
    for (int j = 0; j < TL_SPW(CF, CF##_MWG); j++) {                            \
        const uint k = m0 + (uint)TL_SR(CF, CF##_MWG, j);                       \
        ak[j] = (int)(min(k, p.K - 1u) * OHW);                                  \
    }                                                                           \
    int br[TL_SPW(CF, CF##_NWG)], bs[TL_SPW(CF, CF##_NWG)], bo[TL_SPW(CF, CF##_NWG)]; \
    float bone[TL_SPW(CF, CF##_NWG)];                                           \
    bool hasOne = false;                                                        \
    for (int j = 0; j < TL_SPW(CF, CF##_NWG); j++) {                            \
        const uint col0 = n0 + (uint)TL_SR(CF, CF##_NWG, j);                    \
        const uint col = min(col0, CRS - 1u);                                   \
        const uint c = col / RS, rs = col - c * RS, r = rs / p.S;               \
        br[j] = (int)r;                                                         \
        bs[j] = (int)(rs - r * p.S);                                            \
        bo[j] = (int)(c * HW + r * W) + bs[j];                                  \
        bone[j] = col0 == CRS ? 1.0f : 0.0f;                                    \
        if (col0 == CRS) br[j] = -(1 << 30);                                    \
        hasOne = hasOne || col0 == CRS;                                         \
    }                                                                           \
    uint fn = TL_GK0(CF, CF##_MWG, kbeg) / OHW, foh = TL_GK0(CF, CF##_MWG, kbeg) - fn * OHW; \
    uint fow = foh % p.OW;                                                      \
    foh /= p.OW;                                                                \
    TL_LOOP(CF, kbeg, kend, CONVBF_LOAD)                                        \
    TL_STORE_EACH(CF, m0, p.K, n0, CRS + 1u, CONVBF_STORE, CONVBF_STOREV)

__kernel __attribute__((reqd_work_group_size(TGG_NDIMC, TGG_MDIMC, 1)))
void conv2d_bwd_filter(const Conv2DBwdFilterParams p, __global const float* restrict x,
                       __global const float* restrict dy, __global float* dw, __global float* db,
                       __global float* part, const uint nsplit, const uint kchunk) {
    CONVBF_BODY(TGG)
}

__kernel __attribute__((reqd_work_group_size(TGC_NDIMC, TGC_MDIMC, 1)))
void conv2d_bwd_filter_cpu(const Conv2DBwdFilterParams p, __global const float* restrict x,
                           __global const float* restrict dy, __global float* dw, __global float* db,
                           __global float* part, const uint nsplit, const uint kchunk) {
    CONVBF_BODY(TGC)
}

// CBF128: a wider CPU tiling, 128x64 tiles of 64-deep slabs (16x2
// work-items of 8x32 outputs): every gathered x slab is shared by twice as
// many rows of dy as with TGC. Kernel conv2d_bwd_filter_cpu128; the
// launcher's tilingCPU128 holds the same numbers.
#define CBF128_MWG 128
#define CBF128_NWG 64
#define CBF128_KWG 64
#define CBF128_MDIMC 16
#define CBF128_NDIMC 2
#define CBF128_VW 16
#define CBF128_LVW 16
#define CBF128_STRIDED 0

__kernel __attribute__((reqd_work_group_size(CBF128_NDIMC, CBF128_MDIMC, 1)))
void conv2d_bwd_filter_cpu128(const Conv2DBwdFilterParams p, __global const float* restrict x,
                              __global const float* restrict dy, __global float* dw, __global float* db,
                              __global float* part, const uint nsplit, const uint kchunk) {
    CONVBF_BODY(CBF128)
}

// Sums the nsplit partial results of conv2d_bwd_filter in split order:
// one work-item per element of [K][CRS+1]; column CRS goes to db.
__kernel void conv2d_bwd_filter_reduce(const Conv2DBwdFilterParams p, __global const float* restrict part,
                                       __global float* restrict dw, __global float* restrict db,
                                       const uint nsplit) {
    const uint cols = p.C * p.R * p.S + 1u, n = p.K * cols;
    const uint i = (uint)get_global_id(0);
    if (i >= n) return;
    float s = 0.0f;
    for (uint z = 0; z < nsplit; z++) s += part[z * n + i];
    const uint k = i / cols, col = i - k * cols;
    if (col + 1u < cols) dw[k * (cols - 1u) + col] = s;
    else db[k] = s;
}
