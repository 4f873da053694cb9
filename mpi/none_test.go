//go:build !mpi

package mpi

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInitWithoutMPITagSaysHowToBuild(t *testing.T) {
	assert.False(t, Built())
	c, err := Init(time.Minute)
	assert.Nil(t, c)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrUnavailable), "%v must wrap ErrUnavailable", err)
	for _, want := range []string{"built without MPI", "libopenmpi-dev", "make build-mpi", "go build -tags mpi ./cmd/crossgrad"} {
		assert.Contains(t, err.Error(), want)
	}
	var none *Comm
	assert.ErrorIs(t, none.AllreduceSum([]float32{1}), ErrUnavailable)
	_, err = none.Agree(1)
	assert.ErrorIs(t, err, ErrUnavailable)
	_, err = none.Allgather([]byte("x"))
	assert.ErrorIs(t, err, ErrUnavailable)
	assert.NoError(t, none.Finalize())
}
