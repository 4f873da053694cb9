package backendtest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
)

// TestBatchedGemmCases: the suite has batched gemms of every transpose
// pair, and a batched dispatch's check cases are batches of three while a
// single product's stay single.
func TestBatchedGemmCases(t *testing.T) {
	pairs := map[[2]uint32]bool{}
	for _, c := range CasesOf(backend.KGemm) {
		if q := c.Params.(backend.Gemm); q.Batch > 1 {
			assert.Equal(t, uint32(3), q.Batch, c.Name)
			assert.Equal(t, uint32(1), q.M%2&(q.N%2)&(q.K%2), "%s: odd sizes", c.Name)
			pairs[[2]uint32{q.TransA, q.TransB}] = true
		}
	}
	assert.Len(t, pairs, 4)
	one := backend.Gemm{M: 384, N: 576, K: 256, Alpha: 1}
	many := one
	many.Batch = 16
	for _, c := range CheckCases(one) {
		assert.Equal(t, 1, c.Params.(backend.Gemm).Batches(), c.Name)
	}
	cases := CheckCases(many)
	require.Len(t, cases, 3)
	for _, c := range cases {
		assert.Equal(t, uint32(3), c.Params.(backend.Gemm).Batch, c.Name)
		assert.True(t, strings.HasSuffix(c.Name, "_batch3"), c.Name)
	}
}

// TestWinogradCasesCover: the transforms' cases cover paddings 0, 1, 2
// and unequal ones, odd planes, batch 1, both filter directions, output
// with and without bias, and AlexNet's channel counts.
func TestWinogradCasesCover(t *testing.T) {
	pads := map[[2]uint32]bool{}
	var names []string
	for _, c := range CasesOf(backend.KWinogradInput) {
		q := c.Params.(backend.WinogradInput)
		pads[[2]uint32{q.PadH, q.PadW}] = true
		names = append(names, c.FullName())
	}
	assert.Subset(t, names, []string{"winograd_input/odd_9x5_p0", "winograd_input/batch1_c17_11x13_p1", "winograd_input/alexnet_conv8_full_12"})
	assert.Subset(t, keys(pads), [][2]uint32{{0, 0}, {1, 1}, {2, 2}, {1, 0}})
	flags := map[uint32]int{}
	for _, c := range CasesOf(backend.KWinogradFilter) {
		flags[c.Params.(backend.WinogradFilter).BwdData]++
	}
	assert.Equal(t, flags[0], flags[1])
	bias := map[uint32]int{}
	for _, c := range CasesOf(backend.KWinogradOutput) {
		bias[c.Params.(backend.WinogradOutput).Bias]++
	}
	assert.Positive(t, bias[0])
	assert.Positive(t, bias[1])
}

func keys[K comparable, V any](m map[K]V) []K {
	var out []K
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestCheckWinogradFailsWrongTransform: the pipeline check passes the
// reference device, names the convolution, fails a device whose output
// transform is off by 1e-3 in one element, and refuses a 5x5 layer.
func TestCheckWinogradFailsWrongTransform(t *testing.T) {
	g := backend.NewConv2DShape(2, 3, 7, 9, 5, 3, 3, 1, 1)
	r := ref.New()
	defer r.Close()
	res := CheckWinograd(r, g, false)
	require.NoError(t, res.Err)
	assert.True(t, res.Pass, res.Detail())
	assert.Equal(t, backend.KConv2DFwd, res.Kernel)
	assert.Equal(t, "winograd_fwd_n2_c3_k5_7x9_p1x1", res.Case)
	f := &faulty{Device: ref.New(), dispatch: hostDispatch(backend.KWinogradOutput, func(p backend.Params, v [][]float32) {
		q := p.(backend.WinogradOutput)
		ref.WinogradOutput(q, v[0], v[1], v[2])
		v[2][len(v[2])-1] += 1e-3
	})}
	defer f.Close()
	res = CheckWinograd(f, g, false)
	require.NoError(t, res.Err)
	assert.False(t, res.Pass, "the last element is off by 1e-3")
	assert.Equal(t, 1, res.Mismatches)
	res = CheckWinograd(f, backend.NewConv2DShape(2, 3, 9, 9, 5, 7, 7, 1, 3), false)
	assert.ErrorContains(t, res.Err, "does not admit Winograd")
}
