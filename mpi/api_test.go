package mpi

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLaunchedReadsLauncherEnvironment(t *testing.T) {
	for _, k := range []string{"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	ok, env := Launched()
	assert.False(t, ok)
	assert.Empty(t, env)

	t.Setenv("PMIX_RANK", "1")
	ok, env = Launched()
	assert.True(t, ok)
	assert.Equal(t, "PMIX_RANK=1", env)

	t.Setenv("OMPI_COMM_WORLD_SIZE", "2")
	ok, env = Launched()
	assert.True(t, ok)
	assert.Equal(t, "OMPI_COMM_WORLD_SIZE=2", env, "Open MPI's own variable is named first")
}

func TestRankErrorNamesRank(t *testing.T) {
	assert.Equal(t, "mpi: rank 2 failed: out of memory", (&RankError{Rank: 2, Reason: "out of memory"}).Error())
	assert.Equal(t, "mpi: another rank failed: no answer within 1m0s: a rank died or hangs",
		(&RankError{Rank: -1, Reason: "no answer within 1m0s: a rank died or hangs"}).Error())
}
