// The two operand buffers of a tiled convolution, bindings 0 and 1, read as
// read0(i) and read1(i) (element i): storage buffers, or in the texel
// variants (TILE_TEXEL, the <kernel>_tx modules, configuration tx=1)
// R32_SFLOAT uniform texel buffers, which CPU drivers fetch with vector
// gathers where they load a storage buffer lane by lane.
#ifndef CROSSGRAD_TILE_OPERANDS_GLSL
#define CROSSGRAD_TILE_OPERANDS_GLSL

#ifdef TILE_TEXEL
layout(set = 0, binding = 0) uniform samplerBuffer operand0;
layout(set = 0, binding = 1) uniform samplerBuffer operand1;

float read0(uint i) { return texelFetch(operand0, int(i)).x; }
float read1(uint i) { return texelFetch(operand1, int(i)).x; }
#else
layout(std430, set = 0, binding = 0) readonly restrict buffer Operand0 { float operand0[]; };
layout(std430, set = 0, binding = 1) readonly restrict buffer Operand1 { float operand1[]; };

float read0(uint i) { return operand0[i]; }
float read1(uint i) { return operand1[i]; }
#endif

#endif
