// conv2d_bwd_filter with the tile engine's subgroup variant: in the direct path a
// subgroup loads eight rows of A at once and shares them by broadcast
// (configuration sg=1). The kernel is conv2d_bwd_filter.glsl, the tiling gemm_tile.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#define TILE_SUBGROUP 1
#include "conv2d_bwd_filter.glsl"
