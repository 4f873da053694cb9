package backend_test

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// TestReluMaskers: exactly the kernels whose params have a MaskRelu field
// are ReluMaskers; WithMaskRelu sets that field alone and ReluMasked
// reads it.
func TestReluMaskers(t *testing.T) {
	var maskers []backend.Kernel
	for _, k := range backend.Kernels() {
		p := backend.ParamsFor(k)
		_, hasField := reflect.TypeOf(p).FieldByName("MaskRelu")
		m, ok := p.(backend.ReluMasker)
		require.Equal(t, hasField, ok, "%s: a MaskRelu field and the ReluMasker methods go together", k)
		if !ok {
			continue
		}
		maskers = append(maskers, k)
		assert.False(t, m.ReluMasked(), k)
		masked := m.WithMaskRelu()
		assert.True(t, masked.(backend.ReluMasker).ReluMasked(), k)
		assert.Equal(t, uint32(1), reflect.ValueOf(masked).FieldByName("MaskRelu").Interface(), k)
		want := reflect.New(reflect.TypeOf(p)).Elem()
		want.FieldByName("MaskRelu").SetUint(1)
		assert.Equal(t, want.Interface(), masked, "%s: only MaskRelu changes", k)
	}
	assert.ElementsMatch(t, []backend.Kernel{backend.KConv2DBwdData, backend.KConv2DBwdFilter, backend.KBiasGrad,
		backend.KWinogradInput, backend.KWinogradDy}, maskers)
}
