// Shared-memory tiled, register-blocked matrix product used by gemm and the
// three convolutions (as implicit GEMMs). C[M][N] = sum over k of A[m][k] *
// B[k][n] for one TM x TN tile of C per work-group, TK-deep slices of A and
// B staged in shared memory, each invocation accumulating an RM x RN block
// (RM = TM/WY, RN = TN/WX) in registers.
//
// Specialization constants: 0, 1 = work-group size WX, WY; 2, 3, 4 = TM, TN,
// TK. TM must be a multiple of WY and TN of WX. Work-group (x, y) computes
// rows gl_WorkGroupID.y*TM.. and columns gl_WorkGroupID.x*TN..
//
// Before including this file a shader includes common.glsl and defines
//   float loadA(uint m, uint k);   element (m, k) of A, m < M, k < kEnd
//   float loadB(uint k, uint n);   element (k, n) of B, k < kEnd, n < N
//   void storeC(uint m, uint n, float v);   result for m < M, n < N
// and then calls gemmTile(M, N, kBegin, kEnd, aKMajor, bNMajor) from main.
// aKMajor says consecutive k of A are adjacent in memory (else consecutive
// m), bNMajor that consecutive n of B are (else consecutive k): tiles are
// loaded so that neighbouring invocations read neighbouring addresses.
#ifndef CROSSGRAD_GEMM_TILE_GLSL
#define CROSSGRAD_GEMM_TILE_GLSL

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z = 1) in;
layout(constant_id = 2) const uint TM = 64u;
layout(constant_id = 3) const uint TN = 64u;
layout(constant_id = 4) const uint TK = 16u;

const uint WX = WG_X; // common.glsl
const uint WY = WG_Y;
const uint NT = WX * WY;
const uint RM = TM / WY;
const uint RN = TN / WX;
// Rows of the shared tiles are padded by one element so that stores along
// k do not all fall into one memory bank.
const uint AS = TM + 1u;
const uint BS = TN + 1u;

shared float As[TK * AS];
shared float Bs[TK * BS];

void gemmTile(uint M, uint N, uint kBegin, uint kEnd, bool aKMajor, bool bNMajor) {
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
}

#endif
