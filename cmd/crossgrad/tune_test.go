package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/tune"
)

// tinyTune is crossgrad tune of the tiny model on the first OpenCL device.
var tinyTune = []string{"tune", "--device", "opencl", "--input-size", "65", "--width", "0.0625", "--batch-size", "4"}

// tuneEnv points the tuning cache into a new folder (returned) and keeps
// PoCL's kernel cache where it was, so that its builds stay warm.
func tuneEnv(t *testing.T) ([]string, string) {
	t.Helper()
	cache := t.TempDir()
	env := []string{"XDG_CACHE_HOME=" + cache}
	if os.Getenv("POCL_CACHE_DIR") == "" {
		if base, err := os.UserCacheDir(); err == nil {
			env = append(env, "POCL_CACHE_DIR="+filepath.Join(base, "pocl", "kcache"))
		}
	}
	return env, filepath.Join(cache, "crossgrad", "tune")
}

func TestTuneCLI(t *testing.T) {
	needCLIBackend(t, "opencl")
	env, dir := tuneEnv(t)

	// JSON first (it also warms the driver's kernel cache).
	out, errOut, code := runMain(t, env, append(tinyTune, "--budget", "3s", "--json")...)
	require.Equal(t, 0, code, errOut)
	var rep tuneReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.Regexp(t, `\(opencl:0\)$`, rep.Device)
	assert.Equal(t, "3s", rep.Budget)
	require.NotEmpty(t, rep.Results)
	kernels := map[backend.Kernel]bool{}
	for _, r := range rep.Results {
		kernels[r.Kernel] = true
		assert.NotEmpty(t, r.Default, "%s %s", r.Kernel, r.Shape)
		assert.NotEmpty(t, r.Chosen, "%s %s", r.Kernel, r.Shape)
		assert.NotEmpty(t, r.Layer)
	}
	for _, k := range backend.TiledKernels() {
		assert.True(t, kernels[k], "the plan's %s dispatches are tuned", k)
	}
	assert.Equal(t, "conv.0", rep.Results[0].Layer)
	assert.True(t, strings.HasPrefix(rep.Cache, dir+string(filepath.Separator)), rep.Cache)
	passes := map[string]algoRow{}
	for _, a := range rep.Algorithms {
		passes[a.Layer+" "+a.Pass] = a
		assert.Contains(t, []string{"gemm", "winograd", "winograd4"}, a.Algo, a.Layer)
		assert.Positive(t, a.WinogradMs, a.Layer)
		assert.Positive(t, a.GemmMs, a.Layer)
		assert.Positive(t, a.Winograd4Ms, "%+v: every pass that admits Winograd admits F(4x4,3x3)", a)
		times := map[string]float64{"gemm": a.GemmMs, "winograd": a.WinogradMs, "winograd4": a.Winograd4Ms}
		for algo, ms := range times {
			assert.LessOrEqual(t, times[a.Algo], ms, "%+v: the fastest is kept, not %s", a, algo)
		}
	}
	assert.Len(t, passes, 12, "conv.3 (5x5 blocks), conv.6, conv.8, conv.10, three passes each")
	assert.Contains(t, passes, "conv.3 forward")
	assert.NotContains(t, passes, "conv.0 forward", "11x11 stride 4 has one algorithm")
	cached, err := os.ReadFile(rep.Cache)
	require.NoError(t, err)
	assert.Contains(t, string(cached), `"conv_algo:conv2d_fwd"`, "the choices are cached beside the tiles")

	budget := "8s"
	out, errOut, code = runMain(t, env, append(tinyTune, "--budget", budget)...)
	require.Equal(t, 0, code, errOut)
	if strings.Contains(out, "(nothing stored: the budget ran out") {
		// A cold driver cache spent the budget on kernel builds; they are
		// cached now.
		t.Logf("no candidate tried within %s; once more with 20s", budget)
		budget = "20s"
		out, errOut, code = runMain(t, env, append(tinyTune, "--budget", budget)...)
		require.Equal(t, 0, code, errOut)
	}
	ls := outLines(out)
	require.GreaterOrEqual(t, len(ls), 4, out)
	assert.Regexp(t, `^tuned on .* \(opencl:0\) in \d+\.\d s \(budget `+budget+`\)$`, ls[0])
	assert.Regexp(t, `^KERNEL +LAYER +SHAPE +DEFAULT +CHOSEN +DEFAULT MS +CHOSEN MS +SPEEDUP +SOURCE$`, ls[1])
	assert.Regexp(t, `^conv2d_fwd +conv\.0 forward +N4 C1 65x65 -> K6 15x15 k11x11 s4 p1 +\S+=\d+`, ls[2])
	assert.Regexp(t, `(?m)^gemm +fc\.0 forward +M4 N256 K16 B\^T +\S+=\d+.* \d+\.\d\dx +(tuned|default|fallback)$`, out)
	assert.Regexp(t, `(?m)^CONVOLUTION +PASS +ALGORITHM +WINOGRAD MS +GEMM MS +WINOGRAD4 MS$`, out)
	assert.Regexp(t, `(?m)^conv\.3 +forward +(gemm|winograd|winograd4) +\d+\.\d{3} +\d+\.\d{3} +\d+\.\d{3}$`, out, "5x5 as F(4x4,3x3) blocks too")
	assert.Regexp(t, `(?m)^conv\.6 +forward +(gemm|winograd|winograd4) +\d+\.\d{3} +\d+\.\d{3} +\d+\.\d{3}$`, out)
	assert.Regexp(t, `^cache: `+regexp.QuoteMeta(dir)+`/opencl-[0-9a-f]+\.json$`, ls[len(ls)-1])
	file := strings.TrimPrefix(ls[len(ls)-1], "cache: ")
	assert.FileExists(t, file, "the results are cached")
	assert.Contains(t, errOut, "info: tuning device=")
}

func TestTuneBadInputCLI(t *testing.T) {
	env, _ := tuneEnv(t)
	for _, b := range []string{"-5s", "0", "soon", "90"} {
		_, errOut, code := runMain(t, env, "tune", "--device", "ref", "--budget", b)
		assert.Equal(t, 1, code, b)
		assert.Contains(t, errOut, `crossgrad: tune: --budget "`+b+`" is invalid; allowed: a duration with a unit, above 0 and at most 24h`, b)
	}
	_, errOut, code := runMain(t, append(env, "CROSSGRAD_TUNE_BUDGET=-1m"), "tune", "--device", "ref")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `tune_budget = "-1m" is invalid`)
	assert.Contains(t, errOut, "(from environment CROSSGRAD_TUNE_BUDGET)")

	// The reference backend has no tile engine: nothing to tune, exit 0.
	out, errOut, code := runMain(t, env, "tune", "--device", "ref", "--budget", "1s")
	assert.Equal(t, 0, code, errOut)
	assert.Equal(t, "pure-Go reference (ref:0) has no tile engine: nothing to tune (the gemm and convolution tilings are tuned on OpenCL and Vulkan devices)\n", out)
	out, _, code = runMain(t, env, "tune", "--device", "ref", "--json")
	assert.Equal(t, 0, code)
	var rep tuneReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Empty(t, rep.Results)
	assert.Contains(t, rep.Note, "nothing to tune")
}

func TestTrainAndBenchRefuseBadTuneCLI(t *testing.T) {
	_, _, err := execute(t, t.Context(), "train", "--backend", "ref", "--tune", "sometimes")
	require.ErrorContains(t, err, `tune = "sometimes" is invalid; allowed: off, cached, auto (from flag --tune)`)
	_, _, err = execute(t, t.Context(), "train", "--backend", "ref", "--tune-budget", "-3s")
	require.ErrorContains(t, err, `tune_budget = "-3s" is invalid`)
	_, _, err = benchCLI(t, append(tinyBench, "--tune", "fast")...)
	require.ErrorContains(t, err, `bench: config: tune = "fast" is invalid; allowed: off, cached, auto`)
	_, _, err = benchCLI(t, append(tinyBench, "--tune-budget", "soon")...)
	require.ErrorContains(t, err, `tune_budget = "soon" is invalid`)
}

// seedTuneCache stores, for the first OpenCL device, one entry with a
// configuration it admits (not the default) and one it refuses, in the
// tuning cache under xdg; it returns the two configurations.
func seedTuneCache(t *testing.T, xdg string) (good, bad backend.TileConfig) {
	t.Helper()
	dev, err := backend.Open("opencl:0")
	require.NoError(t, err)
	defer dev.Close()
	tu, ok := dev.(backend.Tuner)
	require.True(t, ok, "opencl devices have a tile engine")
	p := backend.Gemm{M: 33, N: 17, K: 9, Alpha: 1}
	cands := tu.TileCandidates(p)
	require.Greater(t, len(cands), 1)
	good, bad = cands[1], "bogus=1"
	require.Error(t, tu.CheckTile(p, bad))
	q := backend.Gemm{M: 20, N: 12, K: 7, Alpha: 1, TransB: 1}
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	rawQ, err := json.Marshal(q)
	require.NoError(t, err)
	c := &tune.Cache{Dir: filepath.Join(xdg, "crossgrad", "tune")}
	require.NoError(t, c.Store(tu.TuneIdentity(), []tune.Entry{
		{Kernel: p.Kernel(), Shape: p.Shape(), Params: raw, Layer: "fc.0", Config: good, Default: cands[0], Tuned: time.Now()},
		{Kernel: q.Kernel(), Shape: q.Shape(), Params: rawQ, Layer: "fc.3", Config: bad, Default: cands[0], Tuned: time.Now()},
	}))
	return good, bad
}

func TestSelftestChecksTunedConfigurationsCLI(t *testing.T) {
	needCLIBackend(t, "opencl")
	env, _ := tuneEnv(t)
	xdg := strings.TrimPrefix(env[0], "XDG_CACHE_HOME=")

	// Nothing cached: the section says so.
	out, errOut, code := runMain(t, env, "selftest", "--device", "opencl", "--filter", "tuned")
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, `no tuned configuration cached for this device matches --filter "tuned"`)

	good, bad := seedTuneCache(t, xdg)
	out, errOut, code = runMain(t, env, "selftest", "--device", "opencl", "--filter", "tuned")
	require.Equal(t, 0, code, out+errOut)
	assert.Regexp(t, `(?m)^tuned configurations \(cache .*/crossgrad/tune/opencl-[0-9a-f]+\.json\):$`, out)
	assert.Regexp(t, `(?m)^kernel +shape +configuration +time +result$`, out)
	assert.Regexp(t, `(?m)^gemm +M33 N17 K9 +`+regexp.QuoteMeta(string(good))+` +\S+ +PASS$`, out)
	assert.Regexp(t, `(?m)^IGNORED \(not used\): .*kernel="gemm" shape="M20 N12 K7 B\^T" config="`+string(bad)+`"`, out)
	assert.Contains(t, out, "all 1 tuned configurations passed")

	out, errOut, code = runMain(t, env, "selftest", "--device", "opencl", "--filter", "relu_fwd/", "--short")
	require.Equal(t, 0, code, out+errOut)
	assert.NotContains(t, out, "tuned configurations", "a filter no tuned check matches shows no section")
}

func TestWriteTunedChecksFailsOnAFailedCheck(t *testing.T) {
	var b strings.Builder
	failed, err := writeTunedChecks(&b, "/c/opencl-1.json", "", []tunedCheck{
		{kernel: backend.KGemm, shape: "M3 N5 K7", config: "a=1", took: time.Millisecond},
		{kernel: backend.KConv2DFwd, shape: "N1 C1 5x5 -> K1 5x5 k3x3 s1 p1", config: "a=2", err: assert.AnError},
	}, nil)
	require.NoError(t, err)
	assert.True(t, failed)
	out := b.String()
	assert.Regexp(t, `(?m)^gemm +M3 N5 K7 +a=1 +1ms +PASS$`, out)
	assert.Regexp(t, `(?m)^conv2d_fwd +N1 C1 5x5 -> K1 5x5 k3x3 s1 p1 +a=2 +0s +FAIL$`, out)
	assert.Contains(t, out, `FAIL conv2d_fwd/tuned N1 C1 5x5 -> K1 5x5 k3x3 s1 p1 "a=2": `+assert.AnError.Error())
	assert.Contains(t, out, "1 of 2 tuned configurations failed (delete /c/opencl-1.json or run crossgrad tune again)")
}

func TestTuneFlagsCLI(t *testing.T) {
	help := helpText(t, "tune")
	for _, f := range []string{"--device", "--config", "--budget", "--json", "--model", "--input-size", "--width", "--batch-size", "--log-level", "--quiet"} {
		assert.Contains(t, help, f+" ", "tune reads %s", f)
	}
	for _, f := range []string{"--lr", "--epochs", "--tune", "--tune-budget", "--data-dir", "--checkpoint-dir"} {
		assert.NotContains(t, help, f+" ", "tune does not read %s", f)
	}
	bench := helpText(t, "bench")
	assert.Contains(t, bench, "--tune ")
	assert.Contains(t, bench, "--tune-budget ")
}
