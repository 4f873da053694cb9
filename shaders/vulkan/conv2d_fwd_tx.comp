// conv2d_fwd with the tile engine's texel variant: the operands at bindings 0
// and 1 are read as uniform texel buffers (configuration tx=1). The kernel
// is conv2d_fwd.glsl, the tiling gemm_tile.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#define TILE_TEXEL 1
#include "conv2d_fwd.glsl"
