// gemm with the tile engine's texel variant: A and B are read as uniform
// texel buffers (configuration tx=1). The kernel is gemm.glsl, the tiling
// gemm_tile.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#define TILE_TEXEL 1
#include "gemm.glsl"
