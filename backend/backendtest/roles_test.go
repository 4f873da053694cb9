package backendtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
)

// TestCasesFollowRoles checks every case against its kernel's roles: the
// buffers it poisons are those the kernel writes whole, the buffers it
// initialises include every one the kernel reads, and aliases join InPlace
// buffers only.
func TestCasesFollowRoles(t *testing.T) {
	for _, c := range Cases() {
		name := c.FullName()
		for i, r := range c.Params.Buffers() {
			if _, aliased := c.Alias[i]; aliased {
				continue
			}
			switch r.Access {
			case backend.Write:
				assert.Nil(t, c.Init[i], "%s: %s is written whole and must be poisoned", name, r.Name)
			case backend.Read:
				assert.NotNil(t, c.Init[i], "%s: %s is read and needs an Init", name, r.Name)
			}
		}
		for i, j := range c.Alias {
			assert.True(t, backend.MayShare(c.Params, j, i), "%s: slots %d and %d may not share a buffer", name, j, i)
		}
	}
}

func TestOutputsAndReadOnlyFromRoles(t *testing.T) {
	byName := map[string]Case{}
	for _, c := range Cases() {
		byName[c.FullName()] = c
	}
	for _, tc := range []struct {
		name          string
		outs, inputs  []int
		aliasedInputs bool
	}{
		{"relu_fwd/n7", []int{1}, []int{0}, false},
		{"relu_fwd/inplace_n33", []int{1}, nil, true},
		{"relu_bwd/inplace_n33", []int{2}, []int{0}, true},
		{"adam/n7_t2", []int{0, 2, 3}, []int{1}, false},
		{"gemm/1x1x1_NN_a1_b0", []int{2}, []int{0, 1}, false},
		{"count_nonfinite/n7_mixed", []int{1}, []int{0}, false},
		{"conv2d_bwd_filter/tiny_1x1", []int{2, 3}, []int{0, 1}, false},
	} {
		c, ok := byName[tc.name]
		require.True(t, ok, tc.name)
		assert.Equal(t, tc.outs, c.Outputs(), tc.name)
		assert.Equal(t, tc.inputs, c.ReadOnly(), tc.name)
		assert.Equal(t, tc.aliasedInputs, c.Alias != nil, tc.name)
	}
}

func TestSuiteFailsWrittenInput(t *testing.T) {
	// A gemm that also scales A, which it only reads.
	f := &faulty{Device: ref.New(), dispatch: after(backend.KGemm, 0, func(_ backend.Params, v []float32) {
		v[0] = -v[0] - 1
	})}
	rep := runFake(t, f, "gemm/")
	failed, passed := failedCases(rep)
	assert.Empty(t, passed, "every gemm case must notice A changed")
	assert.Len(t, failed, len(CasesOf(backend.KGemm))-countLarge(backend.KGemm))
	for _, r := range rep.Results {
		if r.Case == BadInputsName {
			continue
		}
		require.ErrorIs(t, r.Err, ErrWroteInput, r.Name())
		assert.Contains(t, r.Err.Error(), "buffer 0 (A) element 0")
	}

	// A relu_bwd that also writes dy: a written input where dy is its own
	// buffer, a wrong output where dy is dx.
	f = &faulty{Device: ref.New(), dispatch: after(backend.KReluBwd, 1, func(_ backend.Params, v []float32) {
		v[len(v)-1] = 42
	})}
	rep = runFake(t, f, "relu_bwd/")
	for _, r := range rep.Results {
		c, ok := caseNamed(r.Name())
		if !ok {
			continue
		}
		assert.False(t, r.Pass, r.Name())
		if c.Alias == nil {
			assert.ErrorIs(t, r.Err, ErrWroteInput, r.Name())
		} else {
			assert.NoError(t, r.Err, r.Name())
			assert.Equal(t, 2, r.Worst.Buffer, r.Name())
		}
	}
}

func TestSuiteFailsWriteInInputSlack(t *testing.T) {
	// A count_nonfinite that scribbles just past x (in the slack).
	f := &faulty{Device: ref.New(), dispatch: func(d *ref.Device, p backend.Params, bufs []backend.Buffer) error {
		if err := d.Dispatch(p, bufs...); err != nil {
			return err
		}
		if q, ok := p.(backend.CountNonfinite); ok && bufs[0].Len() > int(q.N) {
			return d.Write(bufs[0], int(q.N), []float32{0})
		}
		return nil
	}}
	rep := runFake(t, f, "count_nonfinite/")
	var slacked []string
	for _, c := range CasesOf(backend.KCountNonfinite) {
		if c.Slack > 0 {
			slacked = append(slacked, c.FullName())
		}
	}
	failed, _ := failedCases(rep)
	assert.NotEmpty(t, slacked)
	assert.Equal(t, slacked, failed, "exactly the cases with slack fail")
	for _, r := range rep.Results {
		if !r.Pass {
			assert.ErrorIs(t, r.Err, ErrWroteInput, r.Name())
		}
	}
}

func countLarge(k backend.Kernel) int {
	n := 0
	for _, c := range CasesOf(k) {
		if c.Large {
			n++
		}
	}
	return n
}

func TestCheckKernelTable(t *testing.T) {
	table := map[backend.Kernel]int{}
	for _, k := range backend.Kernels() {
		table[k] = 1
	}
	require.NoError(t, CheckKernelTable(table))
	delete(table, backend.KCountNonfinite)
	delete(table, backend.KGemm)
	table["winograd"] = 1
	assert.EqualError(t, CheckKernelTable(table),
		"kernel table: no entry for gemm, count_nonfinite; entries for unknown kernels winograd")
}
