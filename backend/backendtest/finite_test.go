package backendtest

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
)

func TestCountNonfiniteCasesPlantEveryKind(t *testing.T) {
	var nan, pinf, ninf, finiteOnly int
	for _, c := range CasesOf(backend.KCountNonfinite) {
		x := c.Inputs()[0][:c.Params.BufferSizes()[0]]
		bad := 0
		for _, v := range x {
			switch {
			case math.IsNaN(float64(v)):
				nan++
				bad++
			case math.IsInf(float64(v), 1):
				pinf++
				bad++
			case math.IsInf(float64(v), -1):
				ninf++
				bad++
			}
		}
		if bad == 0 {
			finiteOnly++
		}
	}
	assert.Positive(t, nan)
	assert.Positive(t, pinf)
	assert.Positive(t, ninf)
	assert.GreaterOrEqual(t, finiteOnly, 2, "all-finite inputs are covered")
}

func TestSuiteFailsCountMissingInfinities(t *testing.T) {
	// A count_nonfinite that sees only NaN (x != x) and misses +-Inf.
	f := &faulty{Device: ref.New(), dispatch: hostDispatch(backend.KCountNonfinite, func(p backend.Params, v [][]float32) {
		q := p.(backend.CountNonfinite)
		n := 0
		for _, x := range v[0][:q.N] {
			if x != x {
				n++
			}
		}
		v[1][q.Slot] = float32(n)
	})}
	rep := runFake(t, f, "count_nonfinite/")
	failed, _ := failedCases(rep)
	var want []string
	for _, c := range CasesOf(backend.KCountNonfinite) {
		for _, x := range c.Inputs()[0][:c.Params.BufferSizes()[0]] {
			if math.IsInf(float64(x), 0) {
				want = append(want, c.FullName())
				break
			}
		}
	}
	assert.GreaterOrEqual(t, len(want), 6)
	assert.Equal(t, want, failed, "exactly the cases holding an infinity fail")
}

func TestSuiteFailsCountWritingOtherSlots(t *testing.T) {
	// A count_nonfinite that clears the whole out buffer before writing.
	f := &faulty{Device: ref.New(), dispatch: hostDispatch(backend.KCountNonfinite, func(p backend.Params, v [][]float32) {
		q := p.(backend.CountNonfinite)
		for i := range v[1][:q.Slot+1] {
			v[1][i] = 0
		}
		ref.CountNonfinite(q, v[0], v[1])
	})}
	rep := runFake(t, f, "count_nonfinite/")
	failed, _ := failedCases(rep)
	assert.Contains(t, failed, "count_nonfinite/n33_slot40")
	assert.NotContains(t, failed, "count_nonfinite/n1_nan", "slot 0 of one element is the same either way")
}
