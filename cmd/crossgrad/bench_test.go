package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/bench"
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
