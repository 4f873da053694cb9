package parallel

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// TestEqualTimeSharesFitsFixedCosts: replicas whose step time is a fixed
// cost plus a cost per image get the counts that equalise their modelled
// times once two rounds with different counts are known; a replica whose
// fixed cost alone exceeds the common time gets one image only.
func TestEqualTimeSharesFitsFixedCosts(t *testing.T) {
	cost := func(a, b, n float64) round { return round{n, a + b*n} }
	// Replica 0: 0.1 s + 0.01 s/image; replica 1: 0.5 s + 0.05 s/image.
	first := []round{cost(0.1, 0.01, 64), cost(0.5, 0.05, 64)}
	prop, ok := equalTimeShares(first, nil)
	require.True(t, ok)
	assert.InDelta(t, 128*first[1].t/(first[0].t+first[1].t), prop[0], 1e-9, "first round: proportional to speed")
	second := []round{cost(0.1, 0.01, 100), cost(0.5, 0.05, 28)}
	fit, ok := equalTimeShares(second, first)
	require.True(t, ok)
	assert.InDelta(t, 128, fit[0]+fit[1], 1e-9)
	t0, t1 := 0.1+0.01*fit[0], 0.5+0.05*fit[1]
	assert.InDelta(t, t0, t1, 1e-9, "equal modelled times: %v", fit)
	// Replica 1's fixed cost (5 s) exceeds what replica 0 needs for all 128 images.
	slow := []round{cost(0.1, 0.01, 100), cost(5, 0.05, 28)}
	fit, ok = equalTimeShares(slow, []round{cost(0.1, 0.01, 64), cost(5, 0.05, 64)})
	require.True(t, ok)
	assert.InDelta(t, 127, fit[0], 1e-9, "the rest of the images")
	assert.Equal(t, 1.0, fit[1], "a device whose fixed cost exceeds the others' time still gets one image")
	_, ok = equalTimeShares([]round{{}, {}}, nil)
	assert.False(t, ok, "nothing measured")
}
