//go:build !mpi

package train

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDistributedNeedsTheMPIBuild(t *testing.T) {
	c := parallelConfig(t)
	c.Distributed = "mpi"
	_, _, err := runTiny(t, c, Options{})
	require.ErrorContains(t, err, "train: distributed = mpi: mpi: not available: this crossgrad was built without MPI: install libopenmpi-dev and build with `make build-mpi`")
	assert.ErrorContains(t, err, "or set --distributed off to train in this process alone")
	assert.Empty(t, files(t, c.CheckpointDir))

	t.Setenv("OMPI_COMM_WORLD_SIZE", "2")
	c.Distributed = "auto"
	_, _, err = runTiny(t, c, Options{})
	require.ErrorContains(t, err, "train: distributed = auto: OMPI_COMM_WORLD_SIZE=2 says an MPI launcher started this process, but MPI cannot run: mpi: not available")
	assert.Empty(t, files(t, c.CheckpointDir))

	c.Distributed = "off"
	res, _, err := runTiny(t, c, Options{})
	require.NoError(t, err, "off trains in this process even under a launcher")
	assert.Equal(t, 6, res.Step)
}
