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

const uint WX = WG_X; // common.glsl
const uint WY = WG_Y;
const uint NT = WX * WY;
const uint RM = TM / WY;
const uint RN = TN / WX;

#endif
