// The output tiles of the Winograd transforms (winograd_input, winograd_dy,
// winograd_output): 2x2 output pixels each, TH = ceil(OH/2) by TW =
// ceil(OW/2) per image, tile t = (n*TH+th)*TW+tw covering output rows
// 2*th, 2*th+1 and columns 2*tw, 2*tw+1 of image n (see
// backend.WinogradTiles).
#ifndef CROSSGRAD_WINOGRAD_TILES_GLSL
#define CROSSGRAD_WINOGRAD_TILES_GLSL

struct WgTiles {
    uint th, tw; // tile rows and columns per image
    uint count;  // P, the tiles of all n images
};

// wgTiles is the tiling of n images of an oh x ow output.
WgTiles wgTiles(uint n, uint oh, uint ow) {
    WgTiles g;
    g.th = (oh + 1u) / 2u;
    g.tw = (ow + 1u) / 2u;
    g.count = n * g.th * g.tw;
    return g;
}

// wgTileOrigin sets the image n of tile t and its first output row oy and
// column ox.
void wgTileOrigin(WgTiles g, uint t, out uint n, out uint oy, out uint ox) {
    uint r = t % (g.th * g.tw);
    n = t / (g.th * g.tw);
    oy = 2u * (r / g.tw);
    ox = 2u * (r % g.tw);
}

#endif
