package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/config"
)

// ColdRunner runs one cold-start measurement of device id at batch in a
// fresh process whose environment is the current one plus env, and returns
// what the child measured (MeasureCold's result).
type ColdRunner func(ctx context.Context, id string, batch int, env []string) (ColdRun, error)

// CacheEnv is the environment that points every driver cache crossgrad
// knows of into dir: PoCL's kernel cache, crossgrad's Vulkan pipeline cache
// (os.UserCacheDir()/crossgrad, i.e. XDG_CACHE_HOME), Mesa's shader cache,
// NVIDIA's OpenCL/CUDA compute cache and its Vulkan/GL shader disk cache.
func CacheEnv(dir string) []string {
	return []string{
		"POCL_CACHE_DIR=" + filepath.Join(dir, "pocl"),
		"XDG_CACHE_HOME=" + filepath.Join(dir, "xdg"),
		"MESA_SHADER_CACHE_DIR=" + filepath.Join(dir, "mesa"),
		"CUDA_CACHE_PATH=" + filepath.Join(dir, "nv-compute"),
		"__GL_SHADER_DISK_CACHE_PATH=" + filepath.Join(dir, "nv-shader"),
		"__GL_SHADER_DISK_CACHE=1",
	}
}

// MeasureColdStart runs two child processes that share a new, empty cache
// folder: the first starts with every driver cache cold, the second finds
// the caches the first filled (warm). The folder is removed afterwards.
func MeasureColdStart(ctx context.Context, run ColdRunner, id string, batch int) ColdStart {
	dir, err := os.MkdirTemp("", "crossgrad-cold-")
	if err != nil {
		return ColdStart{Err: err.Error()}
	}
	defer os.RemoveAll(dir)
	for _, sub := range []string{"pocl", "xdg", "mesa", "nv-compute", "nv-shader"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return ColdStart{Err: err.Error()}
		}
	}
	env := CacheEnv(dir)
	var cs ColdStart
	for i, dst := range []*ColdRun{&cs.Cold, &cs.Warm} {
		r, err := run(ctx, id, batch, env)
		if err != nil {
			if r.Err != "" {
				r.Err += "; "
			}
			r.Err += err.Error()
		}
		*dst = r
		if r.Err != "" && cs.Err == "" {
			cs.Err = []string{"cold", "warm"}[i] + ": " + r.Err
		}
	}
	return cs
}

// MeasureCold is the child's side of a cold start, in the calling process:
// open device id, plan the model of c for batch images, and run two
// training steps, each timed on the host. Errors end the measurement and
// are returned in ColdRun.Err with the times measured so far.
func MeasureCold(id string, c config.Config, batch int, open func(string) (backend.Device, error)) ColdRun {
	if open == nil {
		open = backend.Open
	}
	var r ColdRun
	t0 := time.Now()
	dev, err := open(id)
	r.OpenMs = ms(time.Since(t0))
	if err != nil {
		r.Err = "open: " + err.Error()
		return r
	}
	defer dev.Close()
	t0 = time.Now()
	plan, err := NewPlan(dev, c, batch)
	if err == nil {
		err = dev.Sync()
	}
	r.PlanMs = ms(time.Since(t0))
	if err != nil {
		r.Err = "plan: " + err.Error()
		return r
	}
	defer plan.Close()
	for i, dst := range []*float64{&r.FirstStepMs, &r.SecondStepMs} {
		t0 = time.Now()
		_, err := plan.TrainStep(i+1, batch)
		*dst = ms(time.Since(t0))
		if err != nil {
			r.Err = fmt.Sprintf("step %d: %v", i+1, err)
			return r
		}
	}
	r.TotalMs = r.OpenMs + r.PlanMs + r.FirstStepMs
	return r
}

// ChildRunner is a ColdRunner that runs exe with args(id, batch) in a fresh
// process (the current environment plus the cache variables), allowing it
// timeout (0: no limit), and parses the ColdRun JSON object the child prints as the last
// line of its standard output (see MeasureCold).
func ChildRunner(exe string, args func(id string, batch int) []string, timeout time.Duration) ColdRunner {
	return func(ctx context.Context, id string, batch int, env []string) (ColdRun, error) {
		if timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		cmd := exec.CommandContext(ctx, exe, args(id, batch)...)
		cmd.Env = append(os.Environ(), env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		runErr := cmd.Run()
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		var r ColdRun
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
			msg := strings.TrimSpace(stderr.String())
			if len(msg) > 400 {
				msg = "..." + msg[len(msg)-400:]
			}
			if runErr == nil {
				runErr = fmt.Errorf("no result on its output: %v", err)
			}
			if ctx.Err() == context.DeadlineExceeded {
				runErr = fmt.Errorf("timed out after %v", timeout)
			}
			return ColdRun{}, fmt.Errorf("cold-start child %s: %w (stderr: %s)", id, runErr, msg)
		}
		return r, nil
	}
}
