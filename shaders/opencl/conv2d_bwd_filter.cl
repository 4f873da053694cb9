// dw[k][c][r][s] = sum over n, oh, ow of dy[n][k][oh][ow] *
// x[n][c][oh*StrideH-PadH+r][ow*StrideW-PadW+s] (zero outside x) and
// db[k] = sum over n, oh, ow of dy[n][k][oh][ow]. Implicit GEMM on the tile
// engine of gemm_tile.h: rows m = k (K of them), columns = the C*R*S filter
// taps plus one column of ones (whose result is db), reduction over the
// N*OH*OW output pixels; both operands are loaded "stationary". The
// reduction may be split over get_group_id(2) (split-K, for few tiles and a
// long reduction): with nsplit > 1 split z covers [z*kchunk, (z+1)*kchunk)
// and writes part[z][K][CRS+1], which conv2d_bwd_filter_reduce then sums in
// split order (deterministic). Kernel conv2d_bwd_filter, built by the host
// once per tiling TILE it runs (TILE_CPU: the CPU body): work sizes of gemm
// over M = K, N = C*R*S+1, times nsplit in dimension 2. Args: params, x,
// dy, dw, db, part, nsplit, kchunk, ym. With p.MaskRelu every dy element
// is read masked as relu_bwd by the ReLU output ym (ym > 0 ? dy : 0), the
// vector copies of dy too (a vector of ym beside each vector of dy);
// without it ym is dy, unread.
#include "params.h"
#include "gemm_tile.h"

#if TILE_DIRECT
#error "conv2d_bwd_filter has no direct body (TILE_DIRECT must be 0)"
#endif

// Element o of dy, masked when p.MaskRelu.
#define CONVBF_DY(o) ((!p.MaskRelu || ym[o] > 0.0f) ? dy[o] : 0.0f)

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
        TL_FILL_EACH(CF, As, CF##_MWG, kk, CONVBF_DY(dyoff_ + ak[j]))           \
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
            const uint ao_ = (ni_ * p.K + m0) * OHW + q0_;                      \
            TL_COPY_KFAST_MASKED(CF, As, CF##_MWG, dy + ao_, ym + ao_, OHW, p.MaskRelu) \
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

// CONVBF_PROLOGUE declares the sizes, this group's reduction chunk and tile
// origin, and the dy row offsets of the tile's output channels, shared by
// the GPU and CPU bodies.
#define CONVBF_PROLOGUE(CF)                                                     \
    TL_DECLARE(CF)                                                              \
    const uint H = p.H, W = p.W, HW = H * W, OHW = p.OH * p.OW;                 \
    const uint RS = p.R * p.S, CRS = p.C * RS, RED = p.N * OHW;                 \
    const uint kbeg = (uint)get_group_id(2) * kchunk;                           \
    const uint kend = min(RED, kbeg + kchunk);                                  \
    TL_TILE_ORIGIN(CF, p.K)                                                     \
    const bool fullM = m0 + CF##_MWG <= p.K;                                    \
    int ak[TL_SPW(CF, CF##_MWG)];                                               \
    for (int j = 0; j < TL_SPW(CF, CF##_MWG); j++) {                            \
        const uint k = m0 + (uint)TL_SR(CF, CF##_MWG, j);                       \
        ak[j] = (int)(min(k, p.K - 1u) * OHW);                                  \
    }

#define CONVBF_BODY(CF)                                                         \
    CONVBF_PROLOGUE(CF)                                                         \
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

// CPU variant of the body: the x slab is filled by blocks of CBFB_NC
// neighbouring filter taps (columns) times KWG/RG reduction rows per
// work-item (column group cg = lid % CG, row group rg = lid / CG, rows kk =
// rg + RG*i), so that the row terms of each pixel (image offset, window
// inside the image) are computed once for CBFB_NC gathered elements
// instead of NWG/WGS. The dy slab is copied with vector loads when it lies
// inside one image, else element by element from a pixel counter.
#define CBFB_NC 16
#define CBFB_CG(CF) (CF##_NWG / CBFB_NC)
#define CBFB_RG(CF) (TL_WGS(CF) / CBFB_CG(CF))

// The dy slab when it spans at most two images (l1_ pixels in image ni_,
// the rest from the start of image ni_+1): 4x4 blocks transposed in
// registers, vector loads unless a block straddles the image boundary.
#define CBFB_COPYA(CF)                                                          \
    for (int t_ = lid; t_ < CF##_MWG * CF##_KWG / 16; t_ += TL_WGS(CF)) {       \
        const int kk_ = (t_ % (CF##_KWG / 4)) * 4;                              \
        const int rr_ = (t_ / (CF##_KWG / 4)) * 4;                              \
        const int o1_ = (int)((ni_ * p.K + m0 + (uint)rr_) * OHW + q0_);        \
        const int o2_ = (int)(((ni_ + 1u) * p.K + m0 + (uint)rr_) * OHW) - (int)l1_; \
        float4 q0v_, q1v_, q2v_, q3v_;                                          \
        if (kk_ + 4 <= (int)l1_ || kk_ >= (int)l1_) {                           \
            const int so_ = (kk_ < (int)l1_ ? o1_ : o2_) + kk_;                 \
            TL_VLOAD4X4(v0_, v1_, v2_, v3_, dy + so_, ym + so_, OHW, p.MaskRelu) \
            q0v_ = v0_;                                                         \
            q1v_ = v1_;                                                         \
            q2v_ = v2_;                                                         \
            q3v_ = v3_;                                                         \
        } else {                                                                \
            float e_[16];                                                       \
            for (int l_ = 0; l_ < 4; l_++) {                                    \
                const int o_ = (kk_ + l_ < (int)l1_ ? o1_ : o2_) + kk_ + l_;    \
                for (int m_ = 0; m_ < 4; m_++) e_[m_ * 4 + l_] = CONVBF_DY(o_ + m_ * (int)OHW); \
            }                                                                   \
            q0v_ = vload4(0, e_);                                               \
            q1v_ = vload4(1, e_);                                               \
            q2v_ = vload4(2, e_);                                               \
            q3v_ = vload4(3, e_);                                               \
        }                                                                       \
        __local float* d_ = As + kk_ * CF##_MWG + rr_;                          \
        vstore4((float4)(q0v_.s0, q1v_.s0, q2v_.s0, q3v_.s0), 0, d_);           \
        vstore4((float4)(q0v_.s1, q1v_.s1, q2v_.s1, q3v_.s1), 0, d_ + CF##_MWG); \
        vstore4((float4)(q0v_.s2, q1v_.s2, q2v_.s2, q3v_.s2), 0, d_ + 2 * CF##_MWG); \
        vstore4((float4)(q0v_.s3, q1v_.s3, q2v_.s3, q3v_.s3), 0, d_ + 3 * CF##_MWG); \
    }

#define CBFB_LOAD(CF, k0)                                                       \
    {                                                                           \
        const uint ni_ = (k0) / OHW, q0_ = (k0) - ni_ * OHW;                    \
        const uint l1_ = min(OHW - q0_, (uint)CF##_KWG);                        \
        if (fullM && (k0) + CF##_KWG <= kend && CF##_KWG - l1_ <= OHW) {        \
            CBFB_COPYA(CF)                                                      \
        } else {                                                                \
            uint an_ = ni_, aq_ = q0_;                                          \
            for (int kk = 0; kk < CF##_KWG; kk++) {                             \
                if ((k0) + (uint)kk < kend) {                                   \
                    const int ao_ = (int)(an_ * p.K * OHW + aq_);               \
                    TL_FILL_EACH(CF, As, CF##_MWG, kk, CONVBF_DY(ao_ + ak[j]))  \
                } else {                                                        \
                    TL_FILL_ZERO(CF, As, CF##_MWG, kk)                          \
                }                                                               \
                if (++aq_ == OHW) { aq_ = 0u; an_++; }                          \
            }                                                                   \
        }                                                                       \
        for (int i_ = 0; i_ < CF##_KWG / CBFB_RG(CF); i_++) {                   \
            const int kk_ = rg_ + i_ * CBFB_RG(CF);                             \
            __local float* d_ = Bs + kk_ * CF##_NWG + cg_ * CBFB_NC;            \
            const int ih_ = (int)(foh * p.StrideH) - (int)p.PadH;               \
            const int iw_ = (int)(fow * p.StrideW) - (int)p.PadW;               \
            const int xoff_ = (int)(fn * p.C * HW) + ih_ * (int)W + iw_;        \
            if ((k0) + (uint)kk_ >= kend) {                                     \
                for (int j = 0; j < CBFB_NC; j++) d_[j] = 0.0f;                              \
            } else if (!hasOne && ih_ >= 0 && ih_ + (int)p.R <= (int)H && iw_ >= 0 && \
                       iw_ + (int)p.S <= (int)W) {                              \
                _Pragma("unroll") for (int j = 0; j < CBFB_NC; j++) d_[j] = x[xoff_ + bo[j]]; \
            } else {                                                            \
                _Pragma("unroll") for (int j = 0; j < CBFB_NC; j++)             \
                    d_[j] = ((uint)(ih_ + br[j]) < H && (uint)(iw_ + bs[j]) < W) \
                                ? x[xoff_ + bo[j]] : bone[j];                   \
            }                                                                   \
            fow += CBFB_RG(CF);                                                 \
            while (fow >= p.OW) { fow -= p.OW; foh++; }                         \
            while (foh >= p.OH) { foh -= p.OH; fn++; }                          \
        }                                                                       \
    }

#define CBFB_BODY(CF)                                                           \
    CONVBF_PROLOGUE(CF)                                                         \
    const int cg_ = lid % CBFB_CG(CF), rg_ = lid / CBFB_CG(CF);                 \
    int br[CBFB_NC], bs[CBFB_NC], bo[CBFB_NC];                                  \
    float bone[CBFB_NC];                                                        \
    bool hasOne = false;                                                        \
    for (int j = 0; j < CBFB_NC; j++) {                                         \
        const uint col0 = n0 + (uint)(cg_ * CBFB_NC + j);                       \
        const uint col = min(col0, CRS - 1u);                                   \
        const uint c = col / RS, rs = col - c * RS, r = rs / p.S;               \
        br[j] = (int)r;                                                         \
        bs[j] = (int)(rs - r * p.S);                                            \
        bo[j] = (int)(c * HW + r * W) + bs[j];                                  \
        bone[j] = col0 == CRS ? 1.0f : 0.0f;                                    \
        if (col0 == CRS) br[j] = -(1 << 30);                                    \
        hasOne = hasOne || col0 == CRS;                                         \
    }                                                                           \
    uint fn = (kbeg + (uint)rg_) / OHW, foh = (kbeg + (uint)rg_) - fn * OHW;    \
    uint fow = foh % p.OW;                                                      \
    foh /= p.OW;                                                                \
    TL_LOOP(CF, kbeg, kend, CBFB_LOAD)                                          \
    TL_STORE_EACH(CF, m0, p.K, n0, CRS + 1u, CONVBF_STORE, CONVBF_STOREV)

__kernel __attribute__((reqd_work_group_size(TILE_NDIMC, TILE_MDIMC, 1)))
void conv2d_bwd_filter(const Conv2DBwdFilterParams p, __global const float* restrict x,
                       __global const float* restrict dy, __global float* dw, __global float* db,
                       __global float* part, const uint nsplit, const uint kchunk,
                       __global const float* restrict ym) {
#if TILE_CPU
    CBFB_BODY(TILE)
#else
    CONVBF_BODY(TILE)
#endif
}
