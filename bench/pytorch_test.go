package bench

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakePython writes a shell script that answers the torch probe with a
// version and every script run with fixed step times (100, 200, 400 ms),
// or with the CUDA error for --device cuda.
func fakePython(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "python3")
	script := `#!/bin/sh
if [ "$1" = "-c" ]; then echo 9.9.9; exit 0; fi
case "$*" in
*"--device cuda"*) echo '{"error": "torch.cuda.is_available() is False", "torch": "9.9.9"}'; exit 3;;
esac
echo "warming up" >&2
echo '{"torch": "9.9.9", "python": "3.x", "device": "cpu", "device_name": "fake cpu", "threads": 2, "batch": 4, "step_ms": [200, 100, 400]}'
`
	require.NoError(t, os.WriteFile(p, []byte(script), 0o755))
	return p
}

func TestBenchCompareTorch(t *testing.T) {
	rep := &Report{Devices: []DeviceReport{
		{ID: "opencl:0", Type: "cpu", Batch: 4, Step: &StepResult{ImagesPerSec: Stat{Median: 10, Min: 8, Max: 12, N: 3}}},
		{ID: "vulkan:0", Type: "discrete-gpu", Batch: 4, Step: &StepResult{ImagesPerSec: Stat{Median: 100, Min: 100, Max: 100, N: 3}}},
		{ID: "ref:0", Type: "reference", Batch: 4, Err: "open failed"},
	}}
	o := Options{Config: tinyConfig(), Runs: 3, PyTorch: &PyTorchOptions{Python: fakePython(t)}}.withDefaults()
	compareTorch(context.Background(), rep, o)
	assert.Empty(t, rep.PyTorchNote)
	require.Len(t, rep.PyTorch, 3, "cpu as installed, cpu with malloc kept, cuda")
	cpu := rep.PyTorch[0]
	assert.Empty(t, cpu.Err)
	assert.Equal(t, "9.9.9", cpu.Torch)
	assert.Equal(t, Stat{Median: 200, Min: 100, Max: 400, N: 3}, cpu.Step)
	assert.InDelta(t, 20, cpu.ImagesPerSec.Median, 1e-9)
	assert.InDelta(t, 10, cpu.ImagesPerSec.Min, 1e-9)
	assert.InDelta(t, 40, cpu.ImagesPerSec.Max, 1e-9)
	assert.Equal(t, MallocTunables, rep.PyTorch[1].Env)
	assert.Contains(t, rep.PyTorch[2].Err, "cuda")

	require.NotNil(t, rep.Devices[0].VsTorch)
	assert.InDelta(t, 0.5, rep.Devices[0].VsTorch.Ratio, 1e-9)
	assert.Nil(t, rep.Devices[1].VsTorch, "no working cuda run to compare with")
	assert.Nil(t, rep.Devices[2].VsTorch)
}

func TestBenchCompareTorchMissing(t *testing.T) {
	rep := &Report{Devices: []DeviceReport{{ID: "ref:0", Type: "reference", Batch: 2, Step: &StepResult{ImagesPerSec: Stat{Median: 1, N: 1}}}}}
	o := Options{Config: tinyConfig(), PyTorch: &PyTorchOptions{Python: "/nonexistent/python3"}}.withDefaults()
	compareTorch(context.Background(), rep, o)
	assert.Contains(t, rep.PyTorchNote, "skipped")
	assert.Contains(t, rep.PyTorchNote, "not found")
	assert.Empty(t, rep.PyTorch)
	assert.Nil(t, rep.Devices[0].VsTorch)
}

// TestPyTorchScript runs the real script on a tiny model when a python
// with torch exists (Debian's python3-torch here).
func TestBenchPyTorchScript(t *testing.T) {
	py, _, err := FindTorch(context.Background(), "")
	if err != nil {
		t.Skipf("no torch: %v", err)
	}
	o := Options{Config: tinyConfig(), Runs: 2, Warmup: 1}.withDefaults()
	script := filepath.Join(t.TempDir(), "alexnet_step.py")
	require.NoError(t, os.WriteFile(script, PyTorchScript, 0o644))
	res := runTorch(context.Background(), py, script, torchRun{device: "cpu", batch: 2, label: "pytorch cpu"}, o, 0)
	require.Empty(t, res.Err)
	assert.Equal(t, 2, res.Step.N)
	assert.Positive(t, res.ImagesPerSec.Median)
	assert.Equal(t, 65, res.InputSize)
	assert.NotEmpty(t, res.Torch)
}
