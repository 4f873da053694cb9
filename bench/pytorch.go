package bench

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// PyTorchScript is bench/pytorch/alexnet_step.py, embedded so that the
// crossgrad binary runs it anywhere (written to a temporary file).
//
//go:embed pytorch/alexnet_step.py
var PyTorchScript []byte

// MallocTunables keeps freed memory mapped in glibc's malloc. On machines
// where re-touching freed pages is slow, PyTorch's CPU step runs 2-3x
// faster with it; the CPU comparison reports both figures.
const MallocTunables = "GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736"

// PyTorchOptions configure the side-by-side PyTorch runs.
type PyTorchOptions struct {
	// Python is the interpreter; "" tries python3, then /usr/bin/python3
	// (Debian's python3-torch is not visible to a pyenv python3), and uses
	// the first that imports torch.
	Python string
	// Script overrides the embedded script's path (tests).
	Script string
	// Timeout bounds each run (0: 10 minutes).
	Timeout time.Duration
}

// PyTorchResult is one PyTorch run of the training step.
type PyTorchResult struct {
	// Label names the run: "pytorch cpu", "pytorch cpu (malloc kept)",
	// "pytorch cuda".
	Label        string  `json:"label"`
	Device       string  `json:"device"` // "cpu" or "cuda"
	DeviceName   string  `json:"device_name"`
	Torch        string  `json:"torch"`
	Python       string  `json:"python"`
	Threads      int     `json:"threads"`
	Batch        int     `json:"batch"`
	InputSize    int     `json:"input_size"`
	Width        float64 `json:"width"`
	Env          string  `json:"env,omitempty"` // extra environment, e.g. MallocTunables
	Step         Stat    `json:"step_ms"`
	ImagesPerSec Stat    `json:"images_per_sec"`
	Err          string  `json:"error,omitempty"`
}

// FindTorch returns the first interpreter of candidates (see
// PyTorchOptions.Python) that can import torch, with torch's version; the
// error says what each candidate answered.
func FindTorch(ctx context.Context, python string) (path, version string, err error) {
	cands := []string{"python3", "/usr/bin/python3"}
	if python != "" {
		cands = []string{python}
	}
	var errs []string
	for _, c := range cands {
		p, err := exec.LookPath(c)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: not found", c))
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		out, err := exec.CommandContext(cctx, p, "-c", "import torch; print(torch.__version__)").CombinedOutput()
		cancel()
		if err != nil {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			errs = append(errs, fmt.Sprintf("%s: %s", p, lines[len(lines)-1]))
			continue
		}
		return p, strings.TrimSpace(string(out)), nil
	}
	return "", "", fmt.Errorf("no python with torch (%s)", strings.Join(errs, "; "))
}

// torchRun is one requested PyTorch run.
type torchRun struct {
	device string
	batch  int
	env    string
	label  string
}

// compareTorch runs PyTorch for every (kind, batch) the devices of rep were
// measured at and fills rep.PyTorch and each device's VsTorch. Without a
// python that imports torch it notes why and returns.
func compareTorch(ctx context.Context, rep *Report, o Options) {
	po := *o.PyTorch
	if po.Timeout <= 0 {
		po.Timeout = 10 * time.Minute
	}
	py, ver, err := FindTorch(ctx, po.Python)
	if err != nil {
		rep.PyTorchNote = "PyTorch comparison skipped: " + err.Error()
		fmt.Fprintf(o.Log, "bench: %s\n", rep.PyTorchNote)
		return
	}
	script := po.Script
	if script == "" {
		dir, err := os.MkdirTemp("", "crossgrad-pytorch-")
		if err != nil {
			rep.PyTorchNote = "PyTorch comparison skipped: " + err.Error()
			return
		}
		defer os.RemoveAll(dir)
		script = filepath.Join(dir, "alexnet_step.py")
		if err := os.WriteFile(script, PyTorchScript, 0o644); err != nil {
			rep.PyTorchNote = "PyTorch comparison skipped: " + err.Error()
			return
		}
	}
	var runs []torchRun
	seen := map[string]bool{}
	for _, d := range rep.Devices {
		gpu := d.Type == "discrete-gpu" || d.Type == "integrated-gpu"
		var want []torchRun
		if gpu {
			want = []torchRun{{device: "cuda", batch: d.Batch, label: "pytorch cuda"}}
		} else {
			want = []torchRun{{device: "cpu", batch: d.Batch, label: "pytorch cpu"},
				{device: "cpu", batch: d.Batch, env: MallocTunables, label: "pytorch cpu (malloc kept)"}}
		}
		for _, w := range want {
			key := fmt.Sprintf("%s/%d/%s", w.device, w.batch, w.env)
			if !seen[key] {
				seen[key] = true
				runs = append(runs, w)
			}
		}
	}
	for _, r := range runs {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(o.Log, "bench: %s, torch %s, batch %d\n", r.label, ver, r.batch)
		res := runTorch(ctx, py, script, r, o, po.Timeout)
		rep.PyTorch = append(rep.PyTorch, res)
	}
	for i := range rep.Devices {
		d := &rep.Devices[i]
		if d.Step == nil || !d.Step.ImagesPerSec.Valid() {
			continue
		}
		gpu := d.Type == "discrete-gpu" || d.Type == "integrated-gpu"
		var best *PyTorchResult
		for j := range rep.PyTorch {
			t := &rep.PyTorch[j]
			if t.Err != "" || t.Batch != d.Batch || (t.Device == "cuda") != gpu || !(t.ImagesPerSec.Median > 0) || math.IsInf(t.ImagesPerSec.Median, 0) {
				continue
			}
			if best == nil || t.ImagesPerSec.Median > best.ImagesPerSec.Median {
				best = t
			}
		}
		if best != nil {
			d.VsTorch = &TorchRatio{Against: best.Label, Ratio: d.Step.ImagesPerSec.Median / best.ImagesPerSec.Median}
		}
	}
}

// runTorch runs the script once (timeout 0: no limit) and parses its JSON
// line.
func runTorch(ctx context.Context, py, script string, r torchRun, o Options, timeout time.Duration) PyTorchResult {
	c := o.Config
	res := PyTorchResult{Label: r.label, Device: r.device, Batch: r.batch, InputSize: c.InputSize, Width: c.Width, Env: r.env}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	args := []string{script, "--device", r.device, "--batch", fmt.Sprint(r.batch), "--input-size", fmt.Sprint(c.InputSize),
		"--width", fmt.Sprint(c.Width), "--runs", fmt.Sprint(o.Runs), "--warmup", fmt.Sprint(o.Warmup),
		"--lr", fmt.Sprint(c.LR), "--seed", fmt.Sprint(c.Seed)}
	cmd := exec.CommandContext(ctx, py, args...)
	cmd.Env = os.Environ()
	if r.env != "" {
		cmd.Env = append(cmd.Env, r.env)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var out struct {
		Torch      string    `json:"torch"`
		Python     string    `json:"python"`
		Device     string    `json:"device"`
		DeviceName string    `json:"device_name"`
		Threads    int       `json:"threads"`
		Batch      int       `json:"batch"`
		StepMs     []float64 `json:"step_ms"`
		Error      string    `json:"error"`
	}
	jerr := json.Unmarshal([]byte(lines[len(lines)-1]), &out)
	switch {
	case jerr == nil && out.Error != "":
		res.Err = out.Error
	case jerr != nil || runErr != nil:
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndex(msg, "\n"); i >= 0 && len(msg) > 300 {
			msg = msg[i+1:]
		}
		res.Err = errors.Join(runErr, jerr).Error() + ": " + msg
		if ctx.Err() == context.DeadlineExceeded {
			res.Err = fmt.Sprintf("timed out after %v", timeout)
		}
	}
	if res.Err != "" {
		return res
	}
	res.Torch, res.Python, res.DeviceName, res.Threads = out.Torch, out.Python, out.DeviceName, out.Threads
	for _, v := range out.StepMs {
		if !(v > 0) {
			res.Err = fmt.Sprintf("step time %v ms reported", v)
			return res
		}
	}
	res.Step = Summarize(out.StepMs)
	res.ImagesPerSec = res.Step.Map(func(m float64) float64 { return float64(r.batch) / (m / 1e3) })
	return res
}
