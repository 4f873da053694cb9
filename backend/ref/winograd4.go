package ref

import "github.com/crossgrad/crossgrad/backend"

// The transform matrices of Winograd's F(4x4,3x3) (Lavin and Gray, 2015),
// with the interpolation points of F(2x2,5x5) and so its B^T (winograd5.go):
// a 4x4 output tile of the 3x3 correlation of a 6x6 input tile d with a
// filter g is
//
//	Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A
//
// with
//
//	G = [  1/4    0     0   ]    A^T = [ 1  1  1  1  1  0 ]
//	    [ -1/6  -1/6  -1/6  ]          [ 0  1 -1  2 -2  0 ]
//	    [ -1/6   1/6  -1/6  ]          [ 0  1  1  4  4  0 ]
//	    [  1/24  1/12  1/6  ]          [ 0  1 -1  8 -8  1 ]
//	    [  1/24 -1/12  1/6  ]
//	    [  0     0     1    ]
//
// (G evaluates the 3-tap filter polynomial at the points with B^T's inverse
// scaling, the first three columns of F(2x2,5x5)'s G; A^T evaluates the
// 4-term output polynomial). The filter gradient over the same tiles, the
// 3x3 correlation dW_t[r][s] = sum_{i,j<4} e[i][j] d[i+r][j+s] of a 4x4
// tile e of dy with the 6x6 window d, is F(3x3,4x4):
//
//	dW_t = A'^T [ (G' e G'^T) ⊙ (B^T d B) ] A'
//
// with the same B^T and
//
//	G' = [ 6  0  0  0 ]    A'^T = 1/24 [ 1  1  1  1  1  0 ]
//	     [-4 -4 -4 -4 ]                [ 0  1 -1  2 -2  0 ]
//	     [-4  4 -4  4 ]                [ 0  1  1  4  4  1 ]
//	     [ 1  2  4  8 ]
//	     [ 1 -2  4 -8 ]
//	     [ 0  0  0 24 ]
//
// scaled as F(5x5,2x2)'s (24 times the matrix that pairs with B^T, A'^T's
// 1/24 undoing it), so that E[7] = (-4,-4,-4,-4) e (...)^T is 16 times the
// sum of the tile.
var (
	winograd4G = [][]float64{{1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}}
	winograd4AT     = [][]float64{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}}
	winograd4GradG  = [][]float64{{6, 0, 0, 0}, {-4, -4, -4, -4}, {-4, 4, -4, 4}, {1, 2, 4, 8}, {1, -2, 4, -8}, {0, 0, 0, 24}}
	winograd4GradAT = [][]float64{{1.0 / 24, 1.0 / 24, 1.0 / 24, 1.0 / 24, 1.0 / 24, 0},
		{0, 1.0 / 24, -1.0 / 24, 2.0 / 24, -2.0 / 24, 0}, {0, 1.0 / 24, 1.0 / 24, 4.0 / 24, 4.0 / 24, 1.0 / 24}}
)

// winograd4Alg is F(4x4,3x3) and F(3x3,4x4): 6x6 tiles of 4x4 outputs, a
// 3x3 block.
var winograd4Alg = winogradAlg{a: 6, r: 3, m: 4, bt: winograd5BT, g: winograd4G, at: winograd4AT,
	gradG: winograd4GradG, gradAT: winograd4GradAT, sum: 7, sumScale: 16}

// algOf is the algorithm of the K5 and F4 flags of a params struct.
func algOf(k5, f4 uint32) winogradAlg {
	if f4 != 0 {
		return winograd4Alg
	}
	return winogradAlgs[k5]
}

// tilesOf is the tile rows and columns per image of an oh x ow output at
// the tile side of the F4 flag.
func tilesOf(oh, ow, f4 uint32) (int, int) {
	m := int(backend.WinogradTileSize)
	if f4 != 0 {
		m = backend.WinogradTileSize4
	}
	return (int(oh) + m - 1) / m, (int(ow) + m - 1) / m
}
