package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBenchCompareTwoReports(t *testing.T) {
	c, err := Compare([]string{"amd.json", "intel.json"}, []*Report{amdReport(), intelReport()})
	require.NoError(t, err)
	require.Len(t, c.Reports, 2)
	assert.Equal(t, "amd.json", c.Reports[0].File)
	assert.Equal(t, "intel-laptop", c.Reports[1].Stamp.Host)
	require.Len(t, c.Devices, 3)
	amd, intel, ref := c.Devices[0], c.Devices[1], c.Devices[2]
	assert.Equal(t, "[1] vulkan:0", amd.Column)
	assert.Equal(t, "[3] ref:0", ref.Column)
	assert.Equal(t, []int{0, 1, 1}, []int{amd.Report, intel.Report, ref.Report})
	assert.Equal(t, 1500.0, amd.ImagesPerSec.Median)
	assert.Equal(t, 128, intel.Batch)
	assert.Equal(t, "radv 24.2", amd.Driver)
	assert.Equal(t, 40000.0, amd.FMA.Median)
	assert.False(t, ref.FMA.Valid(), "no ceilings on ref")
	require.NotNil(t, amd.VsTorch)
	assert.Equal(t, 1363.6, amd.TorchImagesPerSec)
	assert.Nil(t, intel.VsTorch)
	assert.Equal(t, 30.0, ref.TorchImagesPerSec, "the run the ratio was taken against")
	assert.Empty(t, c.Notes, "same batch and model everywhere")

	require.Len(t, c.Kernels, 3)
	pct := func(k ComparedKernel) []any {
		out := make([]any, len(k.Pct))
		for i, p := range k.Pct {
			if p != nil {
				out[i] = *p
			}
		}
		return out
	}
	assert.Equal(t, "conv2d_fwd", c.Kernels[0].Kernel)
	assert.Equal(t, []any{52.5, 30.0, nil}, pct(c.Kernels[0]), "ref has no ceiling")
	assert.Equal(t, "relu_fwd", c.Kernels[1].Kernel)
	assert.False(t, c.Kernels[1].Compute)
	assert.Equal(t, []any{178.3, nil, nil}, pct(c.Kernels[1]), "the failed kernel is blank")
	assert.Equal(t, "gemm", c.Kernels[2].Kernel)
	assert.Equal(t, []any{nil, 50.0, nil}, pct(c.Kernels[2]), "a kernel only one report has")

	var txt, md, js bytes.Buffer
	require.NoError(t, c.WriteText(&txt))
	require.NoError(t, c.WriteMarkdown(&md))
	require.NoError(t, c.WriteJSON(&js))
	for _, out := range []string{txt.String(), md.String()} {
		for _, want := range []string{"2 reports side by side", "AMD Radeon RX 7900 XTX", "radv 24.2", "v1.2.0", "2026-11-27 10:30 UTC",
			"intel-laptop", "1500.00 [1400.00-1550.00]", "1.10x pytorch cuda", "1363.60", "52.5", "178.3", "[2] opencl:0", "fc.1 forward",
			"What the figures mean", "- % copy: ", "It can exceed 100%", "- pytorch cpu (malloc kept): "} {
			assert.Contains(t, out, want)
		}
		assert.NotContains(t, out, "device ms, wall ms", "explains only the columns shown")
	}
	assert.Regexp(t, `^# crossgrad bench: 2 reports side by side\n`, md.String())
	assert.Contains(t, md.String(), "| kernel | where | ceiling | [1] vulkan:0 | [2] opencl:0 | [3] ref:0 |")
	assert.Contains(t, md.String(), "| conv2d_fwd | conv.0 forward | FMA | 52.5 | 30.0 |   |")
	assert.Regexp(t, `(?m)^column +batch +input +images/s`, txt.String())

	var back Comparison
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	assert.Equal(t, c.Devices, back.Devices)
	assert.Equal(t, c.Kernels, back.Kernels)
	assert.Contains(t, js.String(), `"pct": [
        null,
        50,
        null
      ]`)
}

func TestBenchCompareNotesDifferentSettings(t *testing.T) {
	b := intelReport()
	b.Settings.InputSize = 65
	b.Devices[1].Batch = 8
	c, err := Compare([]string{"a.json", "b.json"}, []*Report{amdReport(), b})
	require.NoError(t, err)
	require.Len(t, c.Notes, 2)
	assert.Contains(t, c.Notes[0], "different batches (128, 8)")
	assert.Contains(t, c.Notes[1], "input 224 width 1; input 65 width 1")
	var txt bytes.Buffer
	require.NoError(t, c.WriteText(&txt))
	assert.Contains(t, txt.String(), "note: the devices ran different batches")
}

func TestBenchReadJSONFileRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	var good bytes.Buffer
	require.NoError(t, amdReport().WriteJSON(&good))
	rep, err := ReadJSONFile(write("good.json", good.String()))
	require.NoError(t, err)
	assert.Equal(t, "vulkan:0", rep.Devices[0].ID)

	for name, c := range map[string]struct{ body, want string }{
		"text.json":   {"bench: ref:0 (pure-Go reference)\n", "invalid character"},
		"empty.json":  {"{}", "it holds no devices"},
		"noid.json":   {`{"devices": [{"name": "x"}]}`, "device 1 has no id"},
		"truncated":   {good.String()[:200], "unexpected EOF"},
		"array.json":  {"[1, 2]", "cannot unmarshal array"},
		"blank.json":  {"", "EOF"},
		"number.json": {"42", "cannot unmarshal number"},
	} {
		p := write(name, c.body)
		_, err := ReadJSONFile(p)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), p+" is not a report saved with crossgrad bench --json", name)
		assert.Contains(t, err.Error(), c.want, name)
	}
	_, err = ReadJSONFile(filepath.Join(dir, "missing.json"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing.json")
	assert.True(t, strings.HasPrefix(err.Error(), "bench: "))
}

// TestBenchTestdataReports keeps bench/testdata (the CLI tests' saved
// reports) equal to the fixtures.
func TestBenchTestdataReports(t *testing.T) {
	for file, want := range map[string]*Report{"testdata/amd-box.json": amdReport(), "testdata/intel-laptop.json": intelReport()} {
		got, err := ReadJSONFile(file)
		require.NoError(t, err)
		assert.Equal(t, want, got, file)
	}
}
