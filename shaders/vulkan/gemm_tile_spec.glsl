// The specialization constants of the tile engine (gemm_tile.glsl, which
// documents them), for kernels whose loads read them before including it.
#ifndef CROSSGRAD_GEMM_TILE_SPEC_GLSL
#define CROSSGRAD_GEMM_TILE_SPEC_GLSL

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z = 1) in;
layout(constant_id = 2) const uint TM = 64u;
layout(constant_id = 3) const uint TN = 64u;
layout(constant_id = 4) const uint TK = 16u;
layout(constant_id = 5) const uint DIRECT = 0u;
layout(constant_id = 6) const uint VW = 1u;
// TRANS (gemm with VW = 4 only): bit 0 = A stored K x M, so its 4-wide
// loads run along m; bit 1 = B stored N x K, so its 4-wide loads run along k.
layout(constant_id = 7) const uint TRANS = 0u;
const bool A4_ALONG_M = (TRANS & 1u) != 0u;
const bool B4_ALONG_K = (TRANS & 2u) != 0u;

const uint WX = WG_X; // common.glsl
const uint WY = WG_Y;
const uint NT = WX * WY;
const uint RM = TM / WY;
const uint RN = TN / WX;

#endif
