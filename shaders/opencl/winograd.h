// Shared by the Winograd transforms winograd_input, winograd_output and
// winograd_dy (OpenCL C 1.2).
#ifndef CROSSGRAD_WINOGRAD_H
#define CROSSGRAD_WINOGRAD_H

#include "common.h"

// WINOGRAD_LANES (a -D option: the host's winogradLanes) is the number of
// neighbouring tiles or channels one work-item transforms, as float4 lanes.
#ifndef WINOGRAD_LANES
#error "WINOGRAD_LANES must be set by the host (-D)"
#elif WINOGRAD_LANES != 4
#error "WINOGRAD_LANES must be 4: the Winograd transforms hold their lanes in float4"
#endif

// Stores the first n (1 to WINOGRAD_LANES) lanes of v at o: one vstore4
// when all of them.
CG_INLINE void wg_store_lanes(const float4 v, const uint n, __global float* o) {
    if (n == WINOGRAD_LANES) {
        vstore4(v, 0, o);
        return;
    }
    o[0] = v.s0;
    if (n > 1u) o[1] = v.s1;
    if (n > 2u) o[2] = v.s2;
}

#endif
