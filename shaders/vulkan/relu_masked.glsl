// masked, shared by winograd_input and winograd_dy: element i of their
// read-only operand MASKED_SRC (defined before the include: x, dy), or 0
// where inside is false (outside the image) and, with p.MaskRelu, where
// the ReLU output ym is not positive (relu_bwd's select). Both are read at
// index 0 where inside is false, so that no read needs a branch.
float masked(bool inside, uint i) {
    uint j = inside ? i : 0u;
    float v = LOAD(MASKED_SRC, j);
    if (p.MaskRelu != 0u && !(LOAD(ym, j) > 0.0)) {
        v = 0.0;
    }
    return inside ? v : 0.0;
}
