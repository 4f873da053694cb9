package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/bench"
	"github.com/crossgrad/crossgrad/mpi"
)

// benchCLI runs the CLI with args and returns stdout, stderr and the error.
func benchCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.Execute()
	return out.String(), errOut.String(), err
}

// tinyBench is a quick bench on the reference backend: input 65, width
// 1/16, batch 2, one timed run, no cold start (it would re-run the test
// binary).
var tinyBench = []string{"bench", "--device", "ref", "--input-size", "65", "--width", "0.0625", "--batch", "2",
	"--runs", "1", "--warmup", "0", "--skip", "cold"}

func TestBenchJSONAndMarkdownCLI(t *testing.T) {
	out, errOut, err := benchCLI(t, append(tinyBench, "--json")...)
	require.NoError(t, err, errOut)
	assert.Contains(t, errOut, "bench: ref:0")
	var rep bench.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Len(t, rep.Devices, 1)
	d := rep.Devices[0]
	assert.Equal(t, "ref:0", d.ID)
	assert.Equal(t, 2, d.Batch)
	require.NotNil(t, d.Step)
	assert.Positive(t, d.Step.ImagesPerSec.Median)
	assert.NotEmpty(t, d.Kernels)
	assert.Nil(t, d.Cold)
	assert.True(t, strings.HasPrefix(rep.Stamp.Version, "dev"), rep.Stamp.Version)
	assert.Equal(t, 65, rep.Settings.InputSize)

	file := filepath.Join(t.TempDir(), "rep.json")
	require.NoError(t, os.WriteFile(file, []byte(out), 0o644))
	md, _, err := benchCLI(t, "bench", "--from", file, "--md")
	require.NoError(t, err)
	assert.Contains(t, md, "| device | name | batch | images/s |")
	assert.Contains(t, md, "ref:0")
	txt, _, err := benchCLI(t, "bench", "--from", file)
	require.NoError(t, err)
	assert.Contains(t, txt, "== ref:0 pure-Go reference ==")
}

func TestBenchColdChildCLI(t *testing.T) {
	out, errOut, err := benchCLI(t, "bench", "--cold-child", "--device", "ref:0", "--cold-batch", "2", "--input-size", "65", "--width", "0.0625")
	require.NoError(t, err, errOut)
	var r bench.ColdRun
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	assert.Empty(t, r.Err)
	assert.Positive(t, r.FirstStepMs)
}

func TestBenchBadInputCLI(t *testing.T) {
	_, _, err := benchCLI(t, "bench", "--device", "nosuch")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "registered backends")
	_, _, err = benchCLI(t, "bench", "--device", "ref:5")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ref:0 = pure-Go reference", "lists what exists")
	_, _, err = benchCLI(t, "bench", "--device", "ref", "--skip", "nothing")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ceilings")
	_, _, err = benchCLI(t, "bench", "--compare", "tensorflow")
	assert.Error(t, err)
	_, _, err = benchCLI(t, "bench", "--json", "--md")
	assert.Error(t, err)
	_, _, err = benchCLI(t, "bench", "--input-size", "20", "--device", "ref")
	assert.Error(t, err, "config validation")
	_, _, err = benchCLI(t, "bench", "--from", filepath.Join(t.TempDir(), "missing.json"))
	assert.Error(t, err)
}

func TestBenchComparePyTorchWithoutTorchCLI(t *testing.T) {
	out, errOut, err := benchCLI(t, append(tinyBench, "--compare", "pytorch", "--python", "/nonexistent/python3", "--skip", "kernels")...)
	require.NoError(t, err, "a missing torch never fails the run")
	assert.Contains(t, errOut, "PyTorch comparison skipped")
	assert.Contains(t, out, "PyTorch comparison skipped")
}

func TestBenchVersionString(t *testing.T) {
	assert.True(t, strings.HasPrefix(versionString(), "dev"))
	old := version
	defer func() { version = old }()
	version = "v9.9.9"
	assert.Equal(t, "v9.9.9", versionString())
}

func TestBenchBatchDefaultsToConfiguredCLI(t *testing.T) {
	quick := []string{"bench", "--device", "ref", "--input-size", "65", "--width", "0.0625", "--skip", "cold,ceilings,kernels,step", "--json"}
	for _, c := range []struct {
		extra []string
		want  int
	}{{nil, 128}, {[]string{"--batch", "16"}, 16}, {[]string{"--cpu-batch", "4"}, 4}} {
		out, errOut, err := benchCLI(t, append(quick, c.extra...)...)
		require.NoError(t, err, errOut)
		var rep bench.Report
		require.NoError(t, json.Unmarshal([]byte(out), &rep))
		require.Len(t, rep.Devices, 1)
		assert.Equal(t, c.want, rep.Devices[0].Batch, "%v: the batch train runs unless told", c.extra)
		assert.Equal(t, c.want, rep.Settings.CPUBatch, c.extra)
	}
}

func TestBenchFromSeveralReportsCLI(t *testing.T) {
	a, b := filepath.Join("..", "..", "bench", "testdata", "amd-box.json"), filepath.Join("..", "..", "bench", "testdata", "intel-laptop.json")
	// --device nosuch proves that no device is looked up.
	txt, errOut, err := benchCLI(t, "bench", "--from", a, "--from", b, "--device", "nosuch")
	require.NoError(t, err, errOut)
	assert.Contains(t, txt, "== crossgrad bench: 2 reports side by side ==")
	assert.Regexp(t, `\[1\] vulkan:0 +.*amd-box\.json +AMD Radeon RX 7900 XTX +discrete-gpu +radv 24\.2 +v1\.2\.0 +2026-11-27 10:30 UTC`, txt)
	assert.Regexp(t, `\[2\] opencl:0 +128 +224, width 1 +95\.50 `, txt)
	assert.Regexp(t, `conv2d_fwd +conv\.0 forward +FMA +52\.5 +30\.0`, txt)

	md, _, err := benchCLI(t, "bench", "--from", a, "--from", b, "--md")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(md, "# crossgrad bench: 2 reports side by side\n"), md)
	assert.Contains(t, md, "| [1] vulkan:0 | 128 | 224, width 1 | 1500.00 [1400.00-1550.00] | 1.10x pytorch cuda | 1363.60 | 40000.0 | 800.0 |   |")

	js, _, err := benchCLI(t, "bench", "--from", a, "--from", b, "--json")
	require.NoError(t, err)
	var c bench.Comparison
	require.NoError(t, json.Unmarshal([]byte(js), &c))
	require.Len(t, c.Devices, 3)
	assert.Equal(t, "ref:0", c.Devices[2].ID)
	assert.Equal(t, b, c.Reports[1].File)

	one, _, err := benchCLI(t, "bench", "--from", a, "--md")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(one, "# crossgrad bench v1.2.0, 2026-11-27 10:30 UTC\n"), "one file renders the report itself")

	bad := filepath.Join(t.TempDir(), "log.txt")
	require.NoError(t, os.WriteFile(bad, []byte("bench: ref:0 (pure-Go reference)\n"), 0o644))
	_, _, err = benchCLI(t, "bench", "--from", a, "--from", bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad+" is not a report saved with crossgrad bench --json")
	empty := filepath.Join(t.TempDir(), "empty.json")
	require.NoError(t, os.WriteFile(empty, []byte("{}"), 0o644))
	_, _, err = benchCLI(t, "bench", "--from", empty, "--from", a)
	require.Error(t, err)
	assert.Contains(t, err.Error(), empty+" is not a report saved with crossgrad bench --json: it holds no devices")
}

// tinyParallel is a quick data-parallel bench: the tiny model at a global
// batch of 4, one timed step.
var tinyParallel = []string{"bench", "--input-size", "65", "--width", "0.0625", "--batch", "4", "--runs", "1", "--warmup", "0"}

func TestBenchDevicesBadInputCLI(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--devices", "ref,nosuch"}, `devices entry "nosuch"`},
		{[]string{"--devices", "ref:0,ref:0"}, "devices lists ref:0 twice"},
		{[]string{"--devices", "ref,ref:0"}, `ref:0 is named twice ("ref" and "ref:0")`},
		{[]string{"--devices", "ref:0,ref:7"}, `fix the entry "ref:7" of --devices (key devices)`},
		{[]string{"--devices", "ref:0,opencl:0", "--device", "ref"}, "--device (devices benchmarked one by one) and --devices (one model trained on several together) exclude each other"},
		{[]string{"--devices", "ref:0,opencl:0", "--device-shares", "1"}, "device_shares = [1] has 1 entries but devices lists 2 devices"},
		{[]string{"--devices", "ref:0,opencl:0", "--batch", "1"}, "batch_size = 1 is smaller than the 2 replicas"},
		{[]string{"--devices", "ref:0,opencl:0", "--cpu-batch", "2"}, "--cpu-batch does not apply to the data-parallel benchmark"},
		{[]string{"--device", "ref", "--no-alone"}, "--no-alone applies to the data-parallel benchmark only"},
		{[]string{"--devices", "ref:0"}, "one device (ref:0) in one process is the plain training step"},
		{[]string{"--distributed", "mpo"}, `distributed = "mpo" is invalid`},
	} {
		_, _, err := benchCLI(t, append(slices.Clone(tinyParallel), c.args...)...)
		require.Error(t, err, c.args)
		assert.Contains(t, err.Error(), c.want, c.args)
	}
	if !mpi.Built() {
		_, _, err := benchCLI(t, append(slices.Clone(tinyParallel), "--distributed", "mpi", "--devices", "ref")...)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "bench: --distributed mpi: mpi: not available")
		assert.Contains(t, err.Error(), "make build-mpi")
		assert.Contains(t, err.Error(), "start that binary under mpirun -np N, or give --distributed off")
	}
}

func TestBenchDevicesCLI(t *testing.T) {
	if _, err := backend.Select("opencl:0"); err != nil {
		t.Skipf("no OpenCL device (PoCL): %v", err)
	}
	out, errOut, err := benchCLI(t, append(slices.Clone(tinyParallel), "--devices", "opencl:0,ref:0", "--json")...)
	require.NoError(t, err, errOut)
	assert.Contains(t, errOut, "bench: 2 devices: 2 replicas x 1 ranks")
	var rep bench.ParallelReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Len(t, rep.Runs, 3)
	assert.Equal(t, "opencl:0 alone", rep.Runs[0].Label)
	assert.Equal(t, "ref:0 alone", rep.Runs[1].Label)
	g := rep.Runs[2]
	assert.Equal(t, "2 devices", g.Label)
	assert.Empty(t, g.Err)
	require.Len(t, g.Replicas, 2)
	assert.Equal(t, 4, g.Replicas[0].Images+g.Replicas[1].Images)
	assert.Positive(t, g.Reduce.Median)
	assert.InDelta(t, g.Reduce.Median/math.Max(g.Replicas[0].Compute.Median, g.Replicas[1].Compute.Median), g.Overhead.Median, 1e-9,
		"one step: the overhead is its reduce over its slowest compute")

	txt, errOut, err := benchCLI(t, append(slices.Clone(tinyParallel), "--devices", "opencl:0,ref:0", "--device-shares", "3,1")...)
	require.NoError(t, err, errOut)
	assert.Regexp(t, `run +devices +ranks +batch +images/s +speed-up +step ms +reduce ms +allreduce ms +update ms +grad MB +reduce GB/s +allreduce bus GB/s +reduce overhead +balance +error`, txt)
	assert.Regexp(t, `2 devices +opencl:0 +75\.0% +3 `, txt, "device_shares 3:1 of 4 images")
	assert.Contains(t, txt, "2 devices: reduction overhead (reduce / slowest replica compute)")
}
