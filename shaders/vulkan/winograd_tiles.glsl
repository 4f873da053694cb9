// The output tiles of the Winograd transforms (winograd_input, winograd_dy,
// winograd_output): m x m output pixels each (m = 2, or 4 for F(4x4,3x3)),
// TH = ceil(OH/m) by TW = ceil(OW/m) per image, tile t = (n*TH+th)*TW+tw
// covering output rows m*th.. and columns m*tw.. of image n (see
// backend.WinogradTilesOf).
#ifndef CROSSGRAD_WINOGRAD_TILES_GLSL
#define CROSSGRAD_WINOGRAD_TILES_GLSL

struct WgTiles {
    uint m;      // the tile side
    uint th, tw; // tile rows and columns per image
    uint count;  // P, the tiles of all n images
};

// wgTiles is the tiling of n images of an oh x ow output by tiles of side
// m.
WgTiles wgTiles(uint n, uint oh, uint ow, uint m) {
    WgTiles g;
    g.m = m;
    g.th = (oh + m - 1u) / m;
    g.tw = (ow + m - 1u) / m;
    g.count = n * g.th * g.tw;
    return g;
}

// wgTileOrigin sets the image n of tile t and its first output row oy and
// column ox.
void wgTileOrigin(WgTiles g, uint t, out uint n, out uint oy, out uint ox) {
    uint r = t % (g.th * g.tw);
    n = t / (g.th * g.tw);
    oy = g.m * (r / g.tw);
    ox = g.m * (r % g.tw);
}

#endif
