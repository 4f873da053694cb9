// The im2col view of a convolution's input x (operand 0, read0), shared by
// conv2d_fwd and conv2d_bwd_filter, whose params p both have the fields
// used here: element (q, j) for q = (c, r, s) over C*R*S and column j =
// (n, oh, ow) over N*OH*OW, zero outside the input. The kernel sets the
// divisors in main (setIm2colDivisors) before the tile engine runs.

// The divisors of the index arithmetic: R*S, S, OH*OW, OW.
Divisor dRS, dS, dOHW, dOW;

void setIm2colDivisors() {
    dRS = divisor(p.R * p.S);
    dS = divisor(p.S);
    dOHW = divisor(p.OH * p.OW);
    dOW = divisor(p.OW);
}

float im2col(uint q, uint j) {
    uint c = udiv(q, dRS);
    uint rs = q - c * dRS.d;
    uint r = udiv(rs, dS);
    uint s = rs - r * p.S;
    uint n = udiv(j, dOHW);
    uint pos = j - n * dOHW.d;
    uint oh = udiv(pos, dOW);
    int ih = int(oh * p.StrideH + r) - int(p.PadH);
    int iw = int((pos - oh * p.OW) * p.StrideW + s) - int(p.PadW);
    // Branch-free: read a clamped position, then zero it outside the input.
    bool inside = ih >= 0 && ih < int(p.H) && iw >= 0 && iw < int(p.W);
    uint h = uint(clamp(ih, 0, int(p.H) - 1));
    uint w = uint(clamp(iw, 0, int(p.W) - 1));
    float v = read0(((n * p.C + c) * p.H + h) * p.W + w);
    return inside ? v : 0.0;
}
