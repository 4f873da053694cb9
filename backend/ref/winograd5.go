package ref

// The transform matrices of Winograd's F(2x2,5x5) and of its filter
// gradient F(5x5,2x2), with interpolation points 0, 1, -1, 2, -2 and ∞
// (the points of Lavin and Gray's F(4x4,3x3), whose B^T they share): a
// 2x2 output tile of the 5x5 correlation of a 6x6 input tile d with a
// filter g is
//
//	Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A
//
// with
//
//	B^T = [ 4  0 -5  0  1  0 ]   G = [  1/4    0      0     0     0   ]
//	      [ 0 -4 -4  1  1  0 ]       [ -1/6  -1/6   -1/6  -1/6  -1/6  ]
//	      [ 0  4 -4 -1  1  0 ]       [ -1/6   1/6   -1/6   1/6  -1/6  ]
//	      [ 0 -2 -1  2  1  0 ]       [  1/24  1/12   1/6   1/3   2/3  ]
//	      [ 0  2 -1 -2  1  0 ]       [  1/24 -1/12   1/6  -1/3   2/3  ]
//	      [ 0  4  0 -5  0  1 ]       [  0     0      0     0     1    ]
//
//	A^T = [ 1  1  1  1  1  0 ]
//	      [ 0  1 -1  2 -2  1 ]
//
// (B^T is the transposed interpolation matrix of the six points, scaled
// by row to integers; G evaluates the filter polynomial at them with the
// inverse scaling; A^T evaluates the 2-term output polynomial). The
// filter gradient of one tile, dW_t[r][s] = sum_{i,j<2} e[i][j]
// d[i+r][j+s] (5x5), is
//
//	dW_t = A'^T [ (G' e G'^T) ⊙ (B^T d B) ] A'
//
// with the same B^T and
//
//	G' = [ 6  0 ]    A'^T = 1/24 [ 1  1  1  1   1  0 ]
//	     [-4 -4 ]                [ 0  1 -1  2  -2  0 ]
//	     [-4  4 ]                [ 0  1  1  4   4  0 ]
//	     [ 1  2 ]                [ 0  1 -1  8  -8  0 ]
//	     [ 1 -2 ]                [ 0  1  1 16  16  1 ]
//	     [ 0 24 ]
//
// G' is 24 times the matrix that pairs with B^T, so that every entry is
// an integer and E[7] = (-4,-4) e (-4,-4)^T is 16 times the sum of the
// tile (winograd_dw reads db from it); A'^T's factor 1/24 undoes it.
var (
	winograd5BT = [][]float64{{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}}
	winograd5G = [][]float64{{1.0 / 4, 0, 0, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6}, {1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3, 2.0 / 3},
		{1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3, 2.0 / 3}, {0, 0, 0, 0, 1}}
	winograd5AT     = [][]float64{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 1}}
	winograd5GradG  = [][]float64{{6, 0}, {-4, -4}, {-4, 4}, {1, 2}, {1, -2}, {0, 24}}
	winograd5GradAT = [][]float64{{1.0 / 24, 1.0 / 24, 1.0 / 24, 1.0 / 24, 1.0 / 24, 0},
		{0, 1.0 / 24, -1.0 / 24, 2.0 / 24, -2.0 / 24, 0}, {0, 1.0 / 24, 1.0 / 24, 4.0 / 24, 4.0 / 24, 0},
		{0, 1.0 / 24, -1.0 / 24, 8.0 / 24, -8.0 / 24, 0}, {0, 1.0 / 24, 1.0 / 24, 16.0 / 24, 16.0 / 24, 1.0 / 24}}
)

// winogradAlg is one Winograd algorithm by its matrices: a is the side of
// a transformed tile, r the kernel side of a block, m the output tile side
// (2, or 4 for F(4x4,3x3)); bt is a x a, g a x r, at m x a; gradG (a x m)
// and gradAT (r x a) are the filter gradient's;
// sum is the element ξ of E that holds sumScale times the sum of a tile.
type winogradAlg struct {
	a, r, m       int
	bt, g, at     [][]float64
	gradG, gradAT [][]float64
	sum           int
	sumScale      float64
}

// winogradAlgs are F(2x2,3x3) (with F(3x3,2x2)) and F(2x2,5x5) (with
// F(5x5,2x2)), by the K5 flag of the params.
var winogradAlgs = [2]winogradAlg{
	{a: 4, r: 3, m: 2, bt: winogradBT, g: winogradG, at: winogradAT,
		gradG: winogradGradG, gradAT: winogradGradAT, sum: 5, sumScale: 1},
	{a: 6, r: 5, m: 2, bt: winograd5BT, g: winograd5G, at: winograd5AT,
		gradG: winograd5GradG, gradAT: winograd5GradAT, sum: 7, sumScale: 16},
}

// sandwich stores L m R^T into out (len(l) x len(r)) for L (p x len(m)),
// m (len(m) x len(m[0])) and R (q x len(m[0])), in float64.
func sandwich(out, l, m, r [][]float64) {
	for i := range l {
		for j := range r {
			var s float64
			for a := range m {
				for b := range m[a] {
					s += l[i][a] * m[a][b] * r[j][b]
				}
			}
			out[i][j] = s
		}
	}
}
