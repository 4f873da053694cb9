// conv2d_bwd_data with the tile engine's plain variant (no subgroup operations): the
// kernel is conv2d_bwd_data.glsl, the tiling gemm_tile.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "conv2d_bwd_data.glsl"
