package parallel

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestSplitLargestRemainder: counts follow the weights, the leftover
// images go to the largest remainders (ties to the later replica) and
// always sum to n.
func TestSplitLargestRemainder(t *testing.T) {
	cases := []struct {
		n       int
		weights []float64
		want    []int
	}{
		{13, []float64{1, 1}, []int{6, 7}},
		{1, []float64{1, 1}, []int{0, 1}},
		{0, []float64{1, 1}, []int{0, 0}},
		{10, []float64{1, 3}, []int{2, 8}}, // 2.5 and 7.5: the tie goes to the later one
		{10, []float64{0.7, 0.2, 0.1}, []int{7, 2, 1}},
		{11, []float64{2, 1, 1}, []int{5, 3, 3}}, // 5.5, 2.75, 2.75: the two .75 first
		{128, []float64{30, 1}, []int{124, 4}},
		{7, []float64{1e-9, 1}, []int{0, 7}},
	}
	for _, c := range cases {
		counts, rem := make([]int, len(c.weights)), make([]float64, len(c.weights))
		split(c.n, c.weights, counts, rem)
		assert.Equal(t, c.want, counts, "%d over %v", c.n, c.weights)
	}
}

// TestRankSlice: ranks take contiguous floor(r*B/S) slices covering B.
func TestRankSlice(t *testing.T) {
	var got [][2]int
	for r := range 3 {
		lo, hi := rankSlice(r, 3, 13)
		got = append(got, [2]int{lo, hi})
	}
	assert.Equal(t, [][2]int{{0, 4}, {4, 8}, {8, 13}}, got)
	lo, hi := rankSlice(0, 2, 1)
	assert.Equal(t, [2]int{0, 0}, [2]int{lo, hi}, "a rank may get no image")
}
