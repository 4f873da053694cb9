//go:build mpi

package mpi

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rankLine is what mpi/internal/mpitest writes for one rank.
type rankLine struct {
	Rank int `json:"rank"`
	Size int `json:"size"`
	Sums []struct {
		N       int                `json:"n"`
		Digest  string             `json:"digest"`
		Samples map[string]float32 `json:"samples"`
		MaxErr  float64            `json:"max_err"`
	} `json:"sums"`
	AgreeSame     *bool    `json:"agree_same"`
	AgreeDiff     *bool    `json:"agree_diff"`
	Gather        []string `json:"gather"`
	SegvRecovered bool     `json:"segv_recovered"`
	Finalize      []string `json:"finalize"`
	Err           *struct {
		Message string `json:"message"`
		Rank    *int   `json:"rank"`
		Reason  string `json:"reason"`
	} `json:"err"`
	LaterErr string  `json:"later_err"`
	Seconds  float64 `json:"seconds"`
	Signal   string  `json:"signal"`
}

// mpiRun is one mpirun of the helper program.
type mpiRun struct {
	ranks  map[int]rankLine
	output string
	wall   time.Duration
	err    error
}

var helper struct {
	once sync.Once
	path string
	err  error
}

// helperBinary builds mpi/internal/mpitest with the mpi tag once per test
// binary; it skips the test when mpirun is not installed.
func helperBinary(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("mpirun"); err != nil {
		t.Skip("mpirun not installed (apt-get install openmpi-bin libopenmpi-dev)")
	}
	helper.once.Do(func() {
		dir, err := os.MkdirTemp("", "mpitest")
		if err != nil {
			helper.err = err
			return
		}
		helper.path = filepath.Join(dir, "mpitest")
		out, err := exec.Command("go", "build", "-tags", "mpi", "-o", helper.path, "./internal/mpitest").CombinedOutput()
		if err != nil {
			helper.err = errors.New("go build -tags mpi ./mpi/internal/mpitest: " + err.Error() + "\n" + string(out))
		}
	})
	require.NoError(t, helper.err)
	return helper.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if helper.path != "" {
		_ = os.RemoveAll(filepath.Dir(helper.path))
	}
	os.Exit(code)
}

// runRanks runs the helper under mpirun on np ranks of localhost and reads
// the rank-N.json files the ranks wrote.
func runRanks(t *testing.T, np int, args ...string) mpiRun {
	t.Helper()
	bin := helperBinary(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// mpirun aborts a job with SIGCONT, SIGTERM and SIGKILL,
	// odls_base_sigkill_timeout apart (1 s by default), and a loaded 2-core
	// host can spend a second before a survivor of the kill test has
	// written its report: 3 s apart.
	argv := append([]string{"--allow-run-as-root", "--oversubscribe", "--mca", "odls_base_sigkill_timeout", "3",
		"-np", strconv.Itoa(np), bin, "-out", dir}, args...)
	cmd := exec.CommandContext(ctx, "mpirun", argv...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	r := mpiRun{ranks: map[int]rankLine{}, output: string(out), wall: time.Since(start), err: err}
	for rank := 0; rank < np; rank++ {
		b, err := os.ReadFile(filepath.Join(dir, "rank-"+strconv.Itoa(rank)+".json"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		require.NoError(t, err)
		var l rankLine
		require.NoError(t, json.Unmarshal(b, &l), string(b))
		r.ranks[l.Rank] = l
	}
	return r
}

// value is mpitest.Value: rank's element i of the summed buffers.
func value(rank, i int) float32 {
	return float32(math.Sin(float64(rank*7919+i)) * math.Pow(10, float64(i%7-3)))
}

func TestMPICollectives(t *testing.T) {
	for _, np := range []int{2, 3} {
		t.Run(strconv.Itoa(np)+" ranks", func(t *testing.T) {
			r := runRanks(t, np, "-mode", "basic")
			require.NoError(t, r.err, r.output)
			require.Len(t, r.ranks, np, r.output)
			want := r.ranks[0]
			wantGather := []string{""}
			for k := 1; k < np; k++ {
				wantGather = append(wantGather, strings.Repeat("rank "+strconv.Itoa(k)+";", k))
			}
			for rank := 0; rank < np; rank++ {
				got := r.ranks[rank]
				assert.Equal(t, np, got.Size)
				require.Len(t, got.Sums, 5)
				for j, s := range got.Sums {
					assert.Equal(t, []int{1, 7, 1001, 65537, 300001}[j], s.N)
					assert.Equal(t, want.Sums[j].Digest, s.Digest, "rank %d's sum of %d floats differs in its bits from rank 0's", rank, s.N)
					assert.LessOrEqual(t, s.MaxErr, 2e-7, "relative error of the sum of %d floats", s.N)
					for key, v := range s.Samples {
						var i int
						require.NoError(t, json.Unmarshal([]byte(key), &i))
						ref, mag := 0.0, 0.0
						for k := 0; k < np; k++ {
							ref += float64(value(k, i))
							mag += math.Abs(float64(value(k, i)))
						}
						assert.LessOrEqual(t, math.Abs(float64(v)-ref), 1e-30+2e-7*mag, "element %d of %d: got %g want %g", i, s.N, v, ref)
					}
				}
				require.NotNil(t, got.AgreeSame)
				require.NotNil(t, got.AgreeDiff)
				assert.True(t, *got.AgreeSame, "Agree(42) on every rank")
				assert.False(t, *got.AgreeDiff, "Agree(42+rank)")
				assert.Equal(t, wantGather, got.Gather)
				assert.True(t, got.SegvRecovered, "a nil dereference must still panic in Go after MPI starts")
				assert.Equal(t, []string{"", "", errFinalized.Error(),
					"mpi: Init was already called in this process: use the Comm it returned"}, got.Finalize)
			}
		})
	}
}

func TestMPIFailNamesRankAndReason(t *testing.T) {
	r := runRanks(t, 3, "-mode", "fail", "-timeout", "20s")
	var exit *exec.ExitError
	require.ErrorAs(t, r.err, &exit, r.output)
	assert.Equal(t, 3, exit.ExitCode(), "mpirun passes on the failed rank's exit status")
	require.Len(t, r.ranks, 3, r.output)
	for _, rank := range []int{0, 2} {
		got := r.ranks[rank]
		require.NotNil(t, got.Err, r.output)
		require.NotNil(t, got.Err.Rank)
		assert.Equal(t, 1, *got.Err.Rank)
		assert.Equal(t, "disk full on rank 1", got.Err.Reason)
		assert.Equal(t, "mpi: rank 1 failed: disk full on rank 1", got.Err.Message)
		assert.Less(t, got.Seconds, 5.0, "rank %d learns of the failure from the notice, not the 20 s timeout", rank)
		assert.Equal(t, got.Err.Message, got.LaterErr, "later collectives return the same error")
		assert.Empty(t, got.Finalize, "Finalize after a failure notice")
	}
	failed := r.ranks[1]
	require.NotNil(t, failed.Err, r.output)
	assert.Nil(t, failed.Err.Rank, "the failing rank's own allreduce stops with a plain error")
	assert.Equal(t, "mpi: rank 1 stopped: disk full on rank 1", failed.Err.Message)
	assert.Less(t, failed.Seconds, 5.0, "Fail in another goroutine ends this rank's pending allreduce")
	assert.Equal(t, failed.Err.Message, failed.LaterErr)
}

func TestMPITimeoutWhenRankHangs(t *testing.T) {
	r := runRanks(t, 2, "-mode", "hang", "-timeout", "1s")
	require.NoError(t, r.err, r.output)
	got := r.ranks[0]
	require.NotNil(t, got.Err, r.output)
	require.NotNil(t, got.Err.Rank)
	assert.Equal(t, -1, *got.Err.Rank)
	assert.Equal(t, "no answer within 1s: a rank died or hangs", got.Err.Reason)
	assert.GreaterOrEqual(t, got.Seconds, 1.0)
	assert.Less(t, got.Seconds, 5.0)
	assert.Empty(t, got.Finalize, "Finalize once the slow rank reaches it")
}

func TestMPIKilledRankEndsSurvivors(t *testing.T) {
	r := runRanks(t, 3, "-mode", "kill", "-timeout", "60s")
	require.Error(t, r.err, r.output)
	assert.Less(t, r.wall, 30*time.Second, "mpirun must end the job when a rank is killed")
	assert.Contains(t, r.output, "rank 1")
	assert.Contains(t, r.output, "signal 9")
	for _, rank := range []int{0, 2} {
		got, ok := r.ranks[rank]
		require.True(t, ok, "survivor %d reports the signal mpirun sent it:\n%s", rank, r.output)
		assert.Equal(t, "terminated", got.Signal, "mpirun sends SIGTERM, which the Go runtime delivers")
		assert.Less(t, got.Seconds, 10.0)
		assert.Nil(t, got.Err, "the survivor was still waiting, not timed out")
	}
}

func TestMPIBuiltAndInitChecksTimeout(t *testing.T) {
	assert.True(t, Built())
	_, err := Init(0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "timeout 0s: it must be positive")
}
