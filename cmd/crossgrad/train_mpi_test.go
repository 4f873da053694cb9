//go:build mpi

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/checkpoint"
)

// mpiArgs is a 20-step run of the tiny AlexNet at width 1/64 on the
// reference backend over procData: 512 images in batches of 24 with
// train_limit 480, one epoch; checkpoints in dir.
func mpiArgs(t *testing.T, dir string, extra ...string) []string {
	t.Helper()
	data, err := procData()
	require.NoError(t, err)
	return append([]string{"train", "--backend", "ref", "--input-size", "65", "--width", "0.015625", "--batch-size", "24",
		"--train-limit", "480", "--test-limit", "64", "--epochs", "1", "--data-dir", data, "--checkpoint-dir", dir,
		"--checkpoint-every-minutes", "0", "--tune", "off"}, extra...)
}

// mpirun runs this test binary as crossgrad under mpirun with np ranks on
// localhost (a rank per ':'-separated argument list of rankArgs, or np
// copies of args), with env added; it returns stdout, stderr, the exit code
// and how long it took.
func mpirun(t *testing.T, env []string, np int, args []string, rankArgs ...[]string) (string, string, int, time.Duration) {
	t.Helper()
	mp, err := exec.LookPath("mpirun")
	if err != nil {
		t.Skip("mpirun is not installed (scripts/setup.sh installs openmpi-bin)")
	}
	env = append(env, beMain+"=1")
	line := []string{"--allow-run-as-root", "--oversubscribe"}
	for _, kv := range env {
		line = append(line, "-x", kv)
	}
	if rankArgs == nil {
		line = append(append(line, "-np", strconv.Itoa(np), os.Args[0]), args...)
	}
	for i, a := range rankArgs {
		if i > 0 {
			line = append(line, ":")
		}
		line = append(append(line, "-np", "1", os.Args[0]), a...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, mp, line...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start)
	require.NoError(t, ctx.Err(), "mpirun did not end within 120 s:\n%s", errOut.String())
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		require.True(t, ok, "mpirun: %v", err)
		code = ee.ExitCode()
	}
	return out.String(), errOut.String(), code, took
}

// TestTwoRanksTrainLikeOneProcessMPI: 2 ranks under mpirun give the
// single process's loss sequence (|two-one| <= 1e-5 + 1e-5*|one|) and its
// parameters after 20 steps (|two-one| <= 1e-5 + 1e-4*|one|), on the
// reference backend, PoCL and lavapipe.
func TestTwoRanksTrainLikeOneProcessMPI(t *testing.T) {
	for _, dev := range []struct{ spec, name string }{{"ref", "pure-Go reference (ref:0)"}, {"opencl:0", ""}, {"vulkan:0", ""}} {
		t.Run(dev.spec, func(t *testing.T) {
			if dev.spec != "ref" {
				d, err := backend.Open(dev.spec)
				if err != nil {
					t.Skipf("%s: %v", dev.spec, err)
				}
				_ = d.Close()
			}
			// conv_algo gemm: the bound measures the split and the
			// allreduce (Winograd's cancellation residue on dead weights
			// moves under Adam by the split's rounding; see parallel's
			// newPlan).
			extra := []string{"--backend", dev.spec, "--conv-algo", "gemm"}
			if dev.spec == "vulkan:0" {
				extra = append(extra, "--batch-size", "6", "--train-limit", "120") // lavapipe: 20 small steps
			}
			one := filepath.Join(t.TempDir(), "one")
			_, errOut, code := runMain(t, nil, mpiArgs(t, one, append(extra, "--distributed", "off")...)...)
			require.Equal(t, 0, code, errOut)

			two := filepath.Join(t.TempDir(), "two")
			out, errOut, code, _ := mpirun(t, nil, 2, mpiArgs(t, two, extra...))
			require.Equal(t, 0, code, errOut)
			ls := outLines(out)
			require.Len(t, ls, 3, "rank 0 alone prints the seed's lines:\n%s", out)
			assert.Regexp(t, `^training on .* \(rank 0 of 2\)$`, ls[0])
			if dev.name != "" {
				assert.Equal(t, "training on "+dev.name+" (rank 0 of 2)", ls[0])
			}
			assert.Regexp(t, reEpochLine, ls[1])
			assert.Regexp(t, `^total training time \d+\.\d{2}, \d+\.\d images/sec on `, ls[2])
			assert.Contains(t, errOut, `distributed: auto: an MPI launcher started this process; training as rank 0 of 2 detected="OMPI_COMM_WORLD_SIZE=2"`)

			la, lb := stepLosses(t, one), stepLosses(t, two)
			require.Len(t, la, 20)
			require.Len(t, lb, 20)
			for i := range la {
				assert.LessOrEqual(t, math.Abs(lb[i]-la[i]), 1e-5+1e-5*math.Abs(la[i]), "loss of step %d: one rank %v, two ranks %v", i+1, la[i], lb[i])
			}
			a, _, err := checkpoint.Load(filepath.Join(one, checkpoint.Name(20)))
			require.NoError(t, err)
			b, _, err := checkpoint.Load(filepath.Join(two, checkpoint.Name(20)))
			require.NoError(t, err)
			require.Len(t, b, len(a))
			for i := range a {
				require.Equal(t, a[i].Name, b[i].Name)
				for j, v := range a[i].Data {
					require.LessOrEqual(t, math.Abs(float64(b[i].Data[j]-v)), 1e-5+1e-4*math.Abs(float64(v)), "%s[%d]", a[i].Name, j)
				}
			}
		})
	}
}

// stepLosses reads the loss of every step record of dir's metrics.jsonl.
func stepLosses(t *testing.T, dir string) []float64 {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	require.NoError(t, err)
	var out []float64
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var rec struct {
			Kind string  `json:"kind"`
			Loss float64 `json:"loss"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		if rec.Kind == "step" {
			out = append(out, rec.Loss)
		}
	}
	return out
}

func TestFailingRankStopsTheOtherMPI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	_, errOut, code, took := mpirun(t, []string{failStepEnv + "=5", failRankEnv + "=1"}, 2, mpiArgs(t, dir, "--checkpoint-every-steps", "2"))
	assert.NotEqual(t, 0, code)
	assert.Less(t, took, 60*time.Second)
	ckpt := filepath.Join(dir, checkpoint.Name(4))
	assert.Contains(t, errOut, "crossgrad: injected fault at step 5 ("+failStepEnv+")", "rank 1's own error")
	assert.Contains(t, errOut, "mpi: rank 1 failed: injected fault at step 5 ("+failStepEnv+"); last checkpoint written: "+ckpt+" (resume with: crossgrad train --resume "+dir+")",
		"rank 0 names rank 1 and the last checkpoint")
	assert.FileExists(t, ckpt)
}

func TestRanksWithDifferentConfigurationsRefusedMPI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	_, errOut, code, _ := mpirun(t, nil, 2, nil, mpiArgs(t, dir, "--lr", "0.001"), mpiArgs(t, dir, "--lr", "0.002", "--quiet"))
	assert.NotEqual(t, 0, code)
	assert.Contains(t, errOut, "the ranks of this distributed run have different configurations: lr (rank 0: 0.001, rank 1: 0.002); give every rank the same settings")
	_, err := os.Stat(filepath.Join(dir, checkpoint.Name(20)))
	assert.True(t, os.IsNotExist(err), "nothing trained")
}

// rankPID returns the PID of the rank of an mpirun (pid) whose environment
// says OMPI_COMM_WORLD_RANK=rank, or 0.
func rankPID(pid, rank int) int {
	kids, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "task", strconv.Itoa(pid), "children"))
	if err != nil {
		return 0
	}
	for _, f := range strings.Fields(string(kids)) {
		env, err := os.ReadFile(filepath.Join("/proc", f, "environ"))
		if err == nil && bytes.Contains(env, []byte("\x00OMPI_COMM_WORLD_RANK="+strconv.Itoa(rank)+"\x00")) {
			n, _ := strconv.Atoi(f)
			return n
		}
	}
	return 0
}

func TestKilledRankStopsTheOtherWithAnErrorMPI(t *testing.T) {
	mp, err := exec.LookPath("mpirun")
	if err != nil {
		t.Skip("mpirun is not installed (scripts/setup.sh installs openmpi-bin)")
	}
	dir := filepath.Join(t.TempDir(), "run")
	data, err := procData()
	require.NoError(t, err)
	args := []string{"--allow-run-as-root", "--oversubscribe", "-x", beMain + "=1", "-np", "2", os.Args[0], "train", "--backend", "ref",
		"--input-size", "65", "--width", "0.0625", "--batch-size", "32", "--epochs", "50", "--data-dir", data, "--checkpoint-dir", dir,
		"--checkpoint-every-minutes", "0", "--checkpoint-every-steps", "2", "--tune", "off"}
	cmd := exec.Command(mp, args...)
	cmd.Env = append(os.Environ(), beMain+"=1")
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	cmd.WaitDelay = 5 * time.Second // the ranks may hold stderr open after mpirun ends
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	ckpt := filepath.Join(dir, checkpoint.Name(2))
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(ckpt); err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "no checkpoint of step 2 within 60 s")
		time.Sleep(50 * time.Millisecond)
	}
	victim := rankPID(cmd.Process.Pid, 1)
	require.NotZero(t, victim, "rank 1 of mpirun %d not found", cmd.Process.Pid)
	require.NoError(t, syscall.Kill(victim, syscall.SIGKILL))
	start := time.Now()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("rank 0 still runs 30 s after rank 1 was killed:\n%s", errOut.String())
	}
	assert.Less(t, time.Since(start), 30*time.Second)
	assert.Regexp(t, `crossgrad: train: .*last checkpoint written: `+regexp.QuoteMeta(dir)+`/ckpt-\d+\.safetensors \(resume with: crossgrad train --resume `+regexp.QuoteMeta(dir)+`\)`,
		errOut.String(), "rank 0 stops with an error naming the last checkpoint")
}
