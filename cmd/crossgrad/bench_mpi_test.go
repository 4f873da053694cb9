//go:build mpi

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/bench"
)

func TestBenchTwoRanksMPI(t *testing.T) {
	args := append(append([]string{}, tinyParallel...), "--distributed", "mpi", "--devices", "ref", "--tune", "off", "--json")
	out, errOut, code, _ := mpirun(t, nil, 2, args)
	require.Equal(t, 0, code, errOut)
	var rep bench.ParallelReport
	dec := json.NewDecoder(strings.NewReader(out))
	require.NoError(t, dec.Decode(&rep), out)
	assert.False(t, dec.More(), "rank 0 alone prints:\n%s", out)
	assert.Equal(t, 2, rep.Ranks)
	require.Len(t, rep.Runs, 2)
	assert.Equal(t, "ref:0 alone", rep.Runs[0].Label)
	r := rep.Runs[1]
	assert.Equal(t, "2 ranks", r.Label)
	assert.Empty(t, r.Err)
	require.Len(t, r.Replicas, 1)
	assert.Equal(t, 2, r.Replicas[0].Images, "each rank trains on half the global batch of 4")
	assert.Positive(t, r.Allreduce.Median)
	assert.Positive(t, r.AllreduceBusGBPS)
	require.Len(t, r.RankCompute, 2)
	assert.Positive(t, r.RankCompute[0])
	assert.Positive(t, r.RankCompute[1], "rank 1's figure came through the allreduce")
	assert.InDelta(t, r.ImagesPerSec.Median/rep.Runs[0].ImagesPerSec.Median, r.SpeedUp, 1e-9)
}
