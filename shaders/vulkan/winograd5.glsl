// The F(2x2,5x5) transforms (the matrices in backend/ref/winograd5.go),
// shared by winograd_input, winograd_filter and winograd_output: o = B^T d
// of six values (wgBt6), the filter row o = G g of five (wgG5) and the
// output row o = A^T m, two of six (wgAt6); and F(4x4,3x3)'s
// (backend/ref/winograd4.go), which shares B^T: the filter row of three
// (wgG3) and the output row, four of six (wgAt4).

// wgBt6 is defined for float and, for the vec4 forms' four tiles at a
// time, vec4 values.
#define WG_BT6(T) \
    void wgBt6(in T d[6], out T o[6]) { \
        o[0] = 4.0 * d[0] - 5.0 * d[2] + d[4]; \
        o[1] = d[3] + d[4] - 4.0 * (d[1] + d[2]); \
        o[2] = 4.0 * (d[1] - d[2]) - d[3] + d[4]; \
        o[3] = 2.0 * (d[3] - d[1]) - d[2] + d[4]; \
        o[4] = 2.0 * (d[1] - d[3]) - d[2] + d[4]; \
        o[5] = 4.0 * d[1] - 5.0 * d[3] + d[5]; \
    }
WG_BT6(float)
WG_BT6(vec4)

void wgG5(in float g[5], out float o[6]) {
    o[0] = 0.25 * g[0];
    o[1] = -(g[0] + g[1] + g[2] + g[3] + g[4]) / 6.0;
    o[2] = -(g[0] - g[1] + g[2] - g[3] + g[4]) / 6.0;
    o[3] = (g[0] + 2.0 * g[1] + 4.0 * g[2] + 8.0 * g[3] + 16.0 * g[4]) / 24.0;
    o[4] = (g[0] - 2.0 * g[1] + 4.0 * g[2] - 8.0 * g[3] + 16.0 * g[4]) / 24.0;
    o[5] = g[4];
}

void wgAt6(in float m[6], out float o[2]) {
    o[0] = m[0] + m[1] + m[2] + m[3] + m[4];
    o[1] = m[1] - m[2] + 2.0 * (m[3] - m[4]) + m[5];
}

void wgG3(in float g[3], out float o[6]) {
    o[0] = 0.25 * g[0];
    o[1] = -(g[0] + g[1] + g[2]) / 6.0;
    o[2] = -(g[0] - g[1] + g[2]) / 6.0;
    o[3] = (g[0] + 2.0 * g[1] + 4.0 * g[2]) / 24.0;
    o[4] = (g[0] - 2.0 * g[1] + 4.0 * g[2]) / 24.0;
    o[5] = g[2];
}

void wgAt4(in float m[6], out float o[4]) {
    float s12 = m[1] + m[2], d12 = m[1] - m[2];
    float s34 = m[3] + m[4], d34 = m[3] - m[4];
    o[0] = m[0] + s12 + s34;
    o[1] = d12 + 2.0 * d34;
    o[2] = s12 + 4.0 * s34;
    o[3] = d12 + 8.0 * d34 + m[5];
}
