// The tile engine shared by the GEMM and the implicit-GEMM convolutions
// (OpenCL C 1.2, no extension).
//
// A work-group computes an MWG x NWG tile of C = A*B where A is M x KR and B
// is KR x N (KR: the reduction length). Each step of the tile loop copies a
// KWG-deep slab of both operands into local memory (As[KWG][MWG] and
// Bs[KWG][NWG], reduction index major) and every work-item then accumulates
// a WPTM x WPTN register block of float vectors (VW columns per vector).
// The operands are never materialised: each kernel fills As and Bs through
// the TL_LOAD / TL_COPY_* macros with an element expression of its own
// (plain row-major addressing for GEMM, im2col addresses computed on the fly
// for the convolutions).
//
// A configuration CF is a family of macros CF_MWG, CF_NWG, CF_KWG,
// CF_MDIMC, CF_NDIMC (work-group size: NDIMC along dimension 0 = columns,
// MDIMC along dimension 1 = rows), CF_VW (accumulator vector width, 2, 4,
// 8 or 16), CF_LVW (vector width of global loads in TL_COPY_*), CF_STRIDED
// (1: a work-item's rows and column vectors are strided by the work-group
// dimensions, which suits GPUs; 0: they are contiguous, which suits CPUs).
// CF_LVW may be 1 (scalar copies). Requirements: MWG % MDIMC == 0, NWG %
// (NDIMC*VW) == 0, KWG and MWG, NWG multiples of LVW and of 4.
//
// The tiled kernels (gemm.cl, conv2d_fwd.cl, conv2d_bwd_data.cl,
// conv2d_bwd_filter.cl) run configuration TILE, whose numbers only the host
// holds (the tilings of backend/opencl): each kernel is built once per
// tiling with -D TILE_MWG=... options, TILE_CPU (1: the CPU bodies of the
// convolutions) and TILE_DIRECT (1: the direct body of gemm, which keeps no
// slabs in local memory: every work-item reads its operands from global
// memory into registers, no barrier; KWG is then the unroll depth of the
// reduction loop) besides.
#ifndef CROSSGRAD_GEMM_TILE_H
#define CROSSGRAD_GEMM_TILE_H

#ifndef TILE_MWG
#error "TILE_MWG must be set by the host (-D)"
#endif
#ifndef TILE_NWG
#error "TILE_NWG must be set by the host (-D)"
#endif
#ifndef TILE_KWG
#error "TILE_KWG must be set by the host (-D)"
#endif
#ifndef TILE_MDIMC
#error "TILE_MDIMC must be set by the host (-D)"
#endif
#ifndef TILE_NDIMC
#error "TILE_NDIMC must be set by the host (-D)"
#endif
#ifndef TILE_VW
#error "TILE_VW must be set by the host (-D)"
#endif
#ifndef TILE_LVW
#error "TILE_LVW must be set by the host (-D)"
#endif
#ifndef TILE_STRIDED
#error "TILE_STRIDED must be set by the host (-D)"
#endif
#ifndef TILE_CPU
#error "TILE_CPU must be set by the host (-D)"
#endif
#ifndef TILE_DIRECT
#error "TILE_DIRECT must be set by the host (-D)"
#endif

#define TL_CAT_(a, b) a##b
#define TL_CAT(a, b) TL_CAT_(a, b)

// Derived sizes of configuration CF.
#define TL_WPTM(CF) (CF##_MWG / CF##_MDIMC)
#define TL_NVEC(CF) (CF##_NWG / (CF##_NDIMC * CF##_VW))
#define TL_WGS(CF) (CF##_MDIMC * CF##_NDIMC)

// Accumulator vector type and its load/store; loader vector type likewise.
#define TL_VEC(CF) TL_CAT(float, CF##_VW)
#define TL_VLOAD(CF) TL_CAT(vload, CF##_VW)
#define TL_VSTORE(CF) TL_CAT(vstore, CF##_VW)
// (tl_vloadN/tl_vstoreN: vloadN/vstoreN, and scalar for N = 1).
#define TL_LLOAD(CF) TL_CAT(tl_vload, CF##_LVW)
#define TL_LSTORE(CF) TL_CAT(tl_vstore, CF##_LVW)
#define tl_vload1(o, p) ((p)[o])
#define tl_vstore1(v, o, p) ((p)[o] = (v))
#define tl_vload2 vload2
#define tl_vstore2 vstore2
#define tl_vload4 vload4
#define tl_vstore4 vstore4
#define tl_vload8 vload8
#define tl_vstore8 vstore8
#define tl_vload16 vload16
#define tl_vstore16 vstore16

// Tile row of a work-item's i-th row and tile column of its v-th vector.
#define TL_ROW(CF, ty, i) (CF##_STRIDED ? (i) * CF##_MDIMC + (ty) : (ty) * TL_WPTM(CF) + (i))
#define TL_COL(CF, tx, v)                                                       \
    (CF##_STRIDED ? ((v) * CF##_NDIMC + (tx)) * CF##_VW : ((tx) * TL_NVEC(CF) + (v)) * CF##_VW)

// Declares the register state of configuration CF at kernel scope:
// work-item coordinates tx, ty, lid and the zeroed accumulators
// acc[WPTM][NVEC].
#define TL_DECLARE_REGS(CF)                                                     \
    const int tx = (int)get_local_id(0);                                        \
    const int ty = (int)get_local_id(1);                                        \
    const int lid = ty * CF##_NDIMC + tx;                                       \
    TL_VEC(CF) acc[TL_WPTM(CF)][TL_NVEC(CF)];                                   \
    for (int i_ = 0; i_ < TL_WPTM(CF); i_++)                                    \
        for (int v_ = 0; v_ < TL_NVEC(CF); v_++) acc[i_][v_] = (TL_VEC(CF))(0.0f);

// Declares m0 and n0, the first row and column of the work-group's tile of
// an M-row result (work-group dimension 0 counts column tiles, 1 row
// tiles). With contiguous tilings (CF_STRIDED 0, CPUs) the group ids are
// remapped so that the row tiles of one column tile run one after the
// other: the column tile's operand panel (B's columns, a convolution's
// pixels) stays in cache while every row tile reads it, where dimension 0
// along the columns streamed the whole of B once per row tile (1.2-1.8x
// faster for every gemm of the seed's step on PoCL).
#define TL_TILE_ORIGIN(CF, M)                                                   \
    const uint ngm_ = ((M) + CF##_MWG - 1u) / CF##_MWG;                         \
    const uint gid_ = (uint)get_group_id(0) + (uint)get_group_id(1) * (uint)get_num_groups(0); \
    const uint m0 = (CF##_STRIDED ? (uint)get_group_id(1) : gid_ % ngm_) * CF##_MWG; \
    const uint n0 = (CF##_STRIDED ? (uint)get_group_id(0) : gid_ / ngm_) * CF##_NWG;

// Declares the tile state of configuration CF at kernel scope: the
// register state and the local slabs As and Bs.
#define TL_DECLARE(CF)                                                          \
    TL_DECLARE_REGS(CF)                                                         \
    __local float As[CF##_KWG * CF##_MWG];                                      \
    __local float Bs[CF##_KWG * CF##_NWG];

// One KWG-deep multiply-accumulate over the slabs As, Bs. The work-item's
// first row and column are pointers stepped by a row of the slab per kk,
// and its other rows and vectors constant offsets from them (TL_ROW and
// TL_COL are linear in i and v): with the indices computed per element,
// PoCL spent more instructions on 32-bit address arithmetic than on the
// fused multiply-adds.
#define TL_COMPUTE(CF)                                                          \
    {                                                                           \
        __local const float* ap_ = As + TL_ROW(CF, ty, 0);                      \
        __local const float* bp_ = Bs + TL_COL(CF, tx, 0);                      \
        for (int kk_ = 0; kk_ < CF##_KWG; kk_++, ap_ += CF##_MWG, bp_ += CF##_NWG) { \
            TL_VEC(CF) b_[TL_NVEC(CF)];                                         \
            _Pragma("unroll") for (int v_ = 0; v_ < TL_NVEC(CF); v_++)          \
                b_[v_] = TL_VLOAD(CF)(0, bp_ + (TL_COL(CF, tx, v_) - TL_COL(CF, tx, 0))); \
            _Pragma("unroll") for (int i_ = 0; i_ < TL_WPTM(CF); i_++) {        \
                TL_VEC(CF) a_ = (TL_VEC(CF))(ap_[TL_ROW(CF, ty, i_) - TL_ROW(CF, ty, 0)]); \
                _Pragma("unroll") for (int v_ = 0; v_ < TL_NVEC(CF); v_++)      \
                    acc[i_][v_] = fma(a_, b_[v_], acc[i_][v_]);                 \
            }                                                                   \
        }                                                                       \
    }

// The tile loop over the reduction range [KBEG, KEND) (KBEG a multiple of
// KWG): LOAD(CF, k0) fills As and Bs with the slab starting at k0 (between
// the two barriers), then every work-item accumulates it.
#define TL_LOOP(CF, KBEG, KEND, LOAD)                                           \
    for (uint k0 = (KBEG); k0 < (KEND); k0 += CF##_KWG) {                       \
        barrier(CLK_LOCAL_MEM_FENCE);                                           \
        LOAD(CF, k0)                                                            \
        barrier(CLK_LOCAL_MEM_FENCE);                                           \
        TL_COMPUTE(CF)                                                          \
    }

// Cooperative, bounds-checked scalar fill of dst[KWG][TR] (reduction major):
// element (rr, kk) of the slab is operand element (gr, gk) = (r0+rr, k0+kk),
// the expression EXPR (which may use gr and gk) when gr < R and gk < KR, else
// 0. KFAST says whether consecutive work-items take consecutive gk (operand
// contiguous along the reduction) or consecutive gr.
#define TL_LOAD(CF, dst, TR, r0, R, k0, KR, KFAST, EXPR)                        \
    for (int t_ = lid; t_ < (TR) * CF##_KWG; t_ += TL_WGS(CF)) {                \
        const int rr_ = (KFAST) ? t_ / CF##_KWG : t_ % (TR);                    \
        const int kk_ = (KFAST) ? t_ % CF##_KWG : t_ / (TR);                    \
        const uint gr = (r0) + (uint)rr_, gk = (k0) + (uint)kk_;                \
        (dst)[kk_ * (TR) + rr_] = (gr < (R) && gk < (KR)) ? (EXPR) : 0.0f;      \
    }

// Vector fill of a slab lying wholly inside the operand, which is stored
// with the tile rows contiguous: dst[kk][rr] = src[kk*ld + rr].
#define TL_COPY_RFAST(CF, dst, TR, src, ld)                                     \
    for (int t_ = lid; t_ < (TR) * CF##_KWG / CF##_LVW; t_ += TL_WGS(CF)) {     \
        const int rr_ = (t_ % ((TR) / CF##_LVW)) * CF##_LVW;                    \
        const int kk_ = t_ / ((TR) / CF##_LVW);                                 \
        TL_LSTORE(CF)(TL_LLOAD(CF)(0, (src) + kk_ * (ld) + rr_), 0, (dst) + kk_ * (TR) + rr_); \
    }

// Vector fill of a slab lying wholly inside the operand, which is stored
// with the reduction contiguous: dst[kk][rr] = src[rr*ld + kk], by 4x4
// blocks transposed in registers (KWG and TR multiples of 4).
#define TL_COPY_KFAST(CF, dst, TR, src, ld)                                     \
    for (int t_ = lid; t_ < (TR) * CF##_KWG / 16; t_ += TL_WGS(CF)) {           \
        const int kk_ = (t_ % (CF##_KWG / 4)) * 4;                              \
        const int rr_ = (t_ / (CF##_KWG / 4)) * 4;                              \
        __global const float* s_ = (src) + rr_ * (ld) + kk_;                    \
        const float4 q0_ = vload4(0, s_);                                       \
        const float4 q1_ = vload4(0, s_ + (ld));                                \
        const float4 q2_ = vload4(0, s_ + 2 * (ld));                            \
        const float4 q3_ = vload4(0, s_ + 3 * (ld));                            \
        __local float* d_ = (dst) + kk_ * (TR) + rr_;                           \
        vstore4((float4)(q0_.s0, q1_.s0, q2_.s0, q3_.s0), 0, d_);               \
        vstore4((float4)(q0_.s1, q1_.s1, q2_.s1, q3_.s1), 0, d_ + (TR));        \
        vstore4((float4)(q0_.s2, q1_.s2, q2_.s2, q3_.s2), 0, d_ + 2 * (TR));    \
        vstore4((float4)(q0_.s3, q1_.s3, q2_.s3, q3_.s3), 0, d_ + 3 * (TR));    \
    }

// Four vector loads at s, s+ld, s+2ld, s+3ld into q0..q3, masked by the same
// elements of msk as relu_bwd (lanes whose msk is not > 0, NaN included,
// become 0) when mask is true.
#define TL_MASK4(q, m) select((float4)(0.0f), (q), isgreater((m), (float4)(0.0f)))
#define TL_VLOAD4X4(q0, q1, q2, q3, s, msk, ld, mask)                           \
    float4 q0 = vload4(0, (s)), q1 = vload4(0, (s) + (ld));                     \
    float4 q2 = vload4(0, (s) + 2 * (ld)), q3 = vload4(0, (s) + 3 * (ld));      \
    if (mask) {                                                                 \
        q0 = TL_MASK4(q0, vload4(0, (msk)));                                    \
        q1 = TL_MASK4(q1, vload4(0, (msk) + (ld)));                             \
        q2 = TL_MASK4(q2, vload4(0, (msk) + 2 * (ld)));                         \
        q3 = TL_MASK4(q3, vload4(0, (msk) + 3 * (ld)));                         \
    }

// TL_COPY_KFAST of src masked by msk (same layout) as relu_bwd when mask.
#define TL_COPY_KFAST_MASKED(CF, dst, TR, src, msk, ld, mask)                   \
    for (int t_ = lid; t_ < (TR) * CF##_KWG / 16; t_ += TL_WGS(CF)) {           \
        const int kk_ = (t_ % (CF##_KWG / 4)) * 4;                              \
        const int rr_ = (t_ / (CF##_KWG / 4)) * 4;                              \
        TL_VLOAD4X4(q0_, q1_, q2_, q3_, (src) + rr_ * (ld) + kk_, (msk) + rr_ * (ld) + kk_, ld, mask) \
        __local float* d_ = (dst) + kk_ * (TR) + rr_;                           \
        vstore4((float4)(q0_.s0, q1_.s0, q2_.s0, q3_.s0), 0, d_);               \
        vstore4((float4)(q0_.s1, q1_.s1, q2_.s1, q3_.s1), 0, d_ + (TR));        \
        vstore4((float4)(q0_.s2, q1_.s2, q2_.s2, q3_.s2), 0, d_ + 2 * (TR));    \
        vstore4((float4)(q0_.s3, q1_.s3, q2_.s3, q3_.s3), 0, d_ + 3 * (TR));    \
    }

// Stationary fills, for operands whose addresses are costly (the im2col
// views of the convolutions): work-item lid owns the TL_SPW tile rows
// TL_SR(CF, TR, j), j < TL_SPW, of dst[KWG][TR] for the whole tile loop
// (contiguous rows lid*SPW + j when TR >= WGS, so that runs of neighbouring
// pixels can be copied without per-element checks), so it precomputes their
// address terms once, and fills the slab rows kk = lid/TR + i*TL_KSTEP.
// Over the whole loop the reduction indices a work-item visits are
// TL_GK0(CF, TR, KBEG) + t*TL_KSTEP, t = 0, 1, ..., so the kernel keeps the
// decomposition of the current index in counters (no division per row):
// TL_LOAD_ROWS runs, for each of its slab rows, ROW (declares the row's
// terms from the counters; gk = k0 + kk is in scope), FILL(CF, kk) (stores
// the work-item's elements of row kk, e.g. with TL_FILL_EACH) and ADV
// (advances the counters by TL_KSTEP). Operands that share the reduction
// decomposition and tile height (MWG == NWG) fill both slabs in one FILL.
// TR % WGS == 0 or WGS % TR == 0, and KWG % TL_KSTEP == 0.
#define TL_SPW(CF, TR) ((TR) > TL_WGS(CF) ? (TR) / TL_WGS(CF) : 1)
#define TL_KSTEP(CF, TR) (TL_WGS(CF) > (TR) ? TL_WGS(CF) / (TR) : 1)
#define TL_SR(CF, TR, j) ((TR) >= TL_WGS(CF) ? lid * TL_SPW(CF, TR) + (j) : lid % (TR))
#define TL_GK0(CF, TR, KBEG) ((KBEG) + (uint)(lid / (TR)))
#define TL_LOAD_ROWS(CF, TR, k0, ROW, ADV, FILL)                                \
    for (int i_ = 0; i_ < CF##_KWG / TL_KSTEP(CF, TR); i_++) {                  \
        const int kk_ = lid / (TR) + i_ * TL_KSTEP(CF, TR);                     \
        const uint gk = (k0) + (uint)kk_;                                       \
        ROW                                                                     \
        FILL(CF, kk_)                                                           \
        ADV                                                                     \
    }

// dst[kk][TL_SR(j)] = EXPR (which may use j) for each owned row j.
#define TL_FILL_EACH(CF, dst, TR, kk, EXPR)                                     \
    _Pragma("unroll") for (int j = 0; j < TL_SPW(CF, TR); j++)                  \
        (dst)[(kk) * (TR) + TL_SR(CF, TR, j)] = (EXPR);

// dst[kk][TL_SR(j)] = 0 for each owned row j (reduction rows past the end).
#define TL_FILL_ZERO(CF, dst, TR, kk) TL_FILL_EACH(CF, dst, TR, kk, 0.0f)

// dst[kk][TL_SR(j)] = src[j] for each owned row j (a contiguous run).
#define TL_FILL_RUN(CF, dst, TR, kk, src)                                       \
    _Pragma("unroll") for (int j = 0; j < TL_SPW(CF, TR); j++)                  \
        (dst)[(kk) * (TR) + TL_SR(CF, TR, 0) + j] = (src)[j];

// TL_FILL_RUN of src masked by msk as relu_bwd (msk[j] > 0 ? src[j] : 0):
// the fused ReLU backward of the products that read a ReLU's gradient.
#define TL_FILL_RUN_MASKED(CF, dst, TR, kk, src, msk)                           \
    _Pragma("unroll") for (int j = 0; j < TL_SPW(CF, TR); j++)                  \
        (dst)[(kk) * (TR) + TL_SR(CF, TR, 0) + j] = (msk)[j] > 0.0f ? (src)[j] : 0.0f;

// Advances the mixed-radix counter (hi, mid, lo) of radices (MID, LO) by
// TL_KSTEP(CF, TR) (lo fastest).
#define TL_ADV3(CF, TR, hi, mid, lo, MID, LO)                                   \
    lo += TL_KSTEP(CF, TR);                                                     \
    while (lo >= (LO)) { lo -= (LO); mid++; }                                   \
    while (mid >= (MID)) { mid -= (MID); hi++; }

// Stores every accumulated element inside the M x N result, with gm = m0 +
// tile row and gn = n0 + tile column: STOREV(C, gm, gn, vec) for a vector of VW
// columns lying wholly inside, STORE(gm, gn, value) element by element at
// the right edge.
#define TL_STORE_EACH(CF, m0, M, n0, N, STORE, STOREV)                          \
    for (int i_ = 0; i_ < TL_WPTM(CF); i_++) {                                  \
        const uint gm = (m0) + (uint)TL_ROW(CF, ty, i_);                        \
        if (gm >= (M)) continue;                                                \
        for (int v_ = 0; v_ < TL_NVEC(CF); v_++) {                              \
            const uint gn0_ = (n0) + (uint)TL_COL(CF, tx, v_);                  \
            if (gn0_ + CF##_VW <= (N)) {                                        \
                const uint gn = gn0_;                                           \
                const TL_VEC(CF) vec = acc[i_][v_];                             \
                STOREV(CF, gm, gn, vec)                                         \
                continue;                                                       \
            }                                                                   \
            float e_[CF##_VW];                                                  \
            TL_VSTORE(CF)(acc[i_][v_], 0, e_);                                  \
            for (int l_ = 0; l_ < CF##_VW; l_++) {                              \
                const uint gn = gn0_ + (uint)l_;                                \
                if (gn < (N)) { STORE(gm, gn, e_[l_]) }                         \
            }                                                                   \
        }                                                                       \
    }

#endif
