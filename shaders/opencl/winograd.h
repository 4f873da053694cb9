// Shared by the Winograd transforms winograd_input, winograd_output and
// winograd_dy (OpenCL C 1.2).
#ifndef CROSSGRAD_WINOGRAD_H
#define CROSSGRAD_WINOGRAD_H

// WINOGRAD_LANES (a -D option: the host's winogradLanes) is the number of
// neighbouring tiles or channels one work-item transforms, as float4 lanes.
#ifndef WINOGRAD_LANES
#error "WINOGRAD_LANES must be set by the host (-D)"
#elif WINOGRAD_LANES != 4
#error "WINOGRAD_LANES must be 4: the Winograd transforms hold their lanes in float4"
#endif

#endif
