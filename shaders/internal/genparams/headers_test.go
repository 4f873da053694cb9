package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// TestHeadersUpToDate checks that the committed headers are what the
// generator writes now (else: run go generate ./shaders/...).
func TestHeadersUpToDate(t *testing.T) {
	require.Len(t, headers, 2)
	for file, gen := range headers {
		want, err := gen()
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join("..", "..", file))
		require.NoError(t, err)
		assert.Equal(t, want, string(got), "shaders/%s is stale: run go generate ./shaders/...", file)
	}
}

// TestParamsFieldsFlatten checks the flattened layout of a params struct
// with an embedded struct, and the errors for a bad field and a bad kernel.
func TestParamsFieldsFlatten(t *testing.T) {
	fs, err := paramsFields(backend.KConv2DFwd)
	require.NoError(t, err)
	require.NotEmpty(t, fs)
	assert.Equal(t, field{"N", "uint"}, fs[0])
	assert.Equal(t, "Conv2DFwdParams", paramsStructName(backend.KConv2DFwd))

	adam, err := paramsFields(backend.KAdam)
	require.NoError(t, err)
	assert.Equal(t, []field{{"N", "uint"}, {"Beta1", "float"}, {"Beta2", "float"}, {"Eps", "float"}, {"StepSize", "float"}, {"BC2Sqrt", "float"}, {"OneMinusBeta1", "float"}, {"OneMinusBeta2", "float"}}, adam)

	_, err = paramsFields("no_such_kernel")
	assert.ErrorContains(t, err, `unknown kernel "no_such_kernel"`)

	type bad struct {
		N uint32
		X float64
	}
	_, err = flatten(reflect.TypeOf(bad{}), nil)
	assert.ErrorContains(t, err, "params field bad.X has type float64; only uint32 and float32 are allowed")
}
