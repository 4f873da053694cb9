package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/config"
)

// helpText is the --help output of a subcommand.
func helpText(t *testing.T, name string) string {
	t.Helper()
	out, _, err := execute(t, context.Background(), name, "--help")
	require.NoError(t, err)
	return out
}

func TestFlagsPerCommandCLI(t *testing.T) {
	eval := helpText(t, "eval")
	for _, f := range []string{"--lr", "--adam-beta1", "--epochs", "--dropout", "--resume", "--seed", "--train-limit", "--checkpoint-dir", "--metrics-csv"} {
		assert.NotContains(t, eval, f+" ", "eval does not read %s", f)
	}
	for _, f := range []string{"--device", "--data-dir", "--test-limit", "--batch-size", "--input-size", "--width", "--log-level", "--quiet", "--checkpoint", "--json"} {
		assert.Contains(t, eval, f+" ", "eval reads %s", f)
	}
	assert.NotContains(t, eval, "--limit ", "one name: --test-limit (--limit is accepted as its alias)")

	summary := helpText(t, "summary")
	for _, f := range []string{"--lr", "--device", "--epochs", "--data-dir", "--quiet"} {
		assert.NotContains(t, summary, f+" ", "summary does not read %s", f)
	}
	for _, f := range []string{"--input-size", "--width", "--batch-size", "--memory"} {
		assert.Contains(t, summary, f+" ")
	}

	train := helpText(t, "train")
	for _, k := range config.Keys() {
		assert.Contains(t, train, "--"+config.FlagName(k)+" ", "train has a flag for every key (%s)", k)
	}
	assert.NotContains(t, train, "--backend ", "one name: --device (--backend is its alias)")

	_, _, err := execute(t, context.Background(), "eval", "--checkpoint", t.TempDir(), "--lr", "5")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown flag --lr: eval does not use it (a flag of ")
	assert.Contains(t, err.Error(), "train)")
	_, _, err = execute(t, context.Background(), "summary", "--device", "ref")
	require.ErrorContains(t, err, "unknown flag --device")
}

func TestNearMissFlagSuggestedCLI(t *testing.T) {
	_, _, err := execute(t, context.Background(), "train", "--batch_size", "8")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "train: unknown flag --batch_size (did you mean --batch-size?); see crossgrad train --help")
	_, _, err = execute(t, context.Background(), "eval", "--test_limit=8")
	require.ErrorContains(t, err, "unknown flag --test_limit (did you mean --test-limit?)")
	_, _, err = execute(t, context.Background(), "train", "--nothing-like-it")
	require.ErrorContains(t, err, "unknown flag --nothing-like-it; see crossgrad train --help")
}

// runMain runs the crossgrad main of the test binary with args and extra
// environment, returning stdout, stderr and the exit code.
func runMain(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), beMain+"=1"), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		require.NoError(t, err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

func TestUnknownEnvRefusedCLI(t *testing.T) {
	_, errOut, code := runMain(t, []string{"CROSSGRAD_EPOCH=3"}, "summary")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "unknown environment variable CROSSGRAD_EPOCH (did you mean CROSSGRAD_EPOCHS?)")
	out, errOut, code := runMain(t, []string{"CROSSGRAD_INPUT_SIZE=65", "CROSSGRAD_VK_VALIDATION=0"}, "summary")
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "[-1, 96, 15, 15]", "a known variable applies, one read elsewhere passes")
}

func TestVersionCLI(t *testing.T) {
	out, _, err := execute(t, context.Background(), "--version")
	require.NoError(t, err)
	assert.Equal(t, "crossgrad "+versionString()+"\n", out)

	settings := []debug.BuildSetting{{Key: "vcs.revision", Value: "4d113bd2c3e1f00dfeedbeef"}, {Key: "vcs.modified", Value: "true"},
		{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}}
	assert.Equal(t, "dev (commit 4d113bd2c3e1+dirty, 2026-12-01T10:00:00Z)", versionFrom("", settings))
	assert.Equal(t, "v1.2.3 (commit 4d113bd2c3e1+dirty, 2026-12-01T10:00:00Z)", versionFrom("v1.2.3", settings))
	assert.Equal(t, "4d113bd-dirty", versionFrom("4d113bd-dirty", nil), "make's git describe names the commit")
	assert.True(t, strings.HasPrefix(versionFrom("", nil), "dev (commit unknown"), versionFrom("", nil))
}

// parsedConfig is the configuration cmd loads with args.
func parsedConfig(t *testing.T, cmd *cobra.Command, args ...string) config.Config {
	t.Helper()
	require.NoError(t, cmd.ParseFlags(args))
	cfg, _, err := loadConfig(cmd)
	require.NoError(t, err)
	return cfg
}

func TestDeviceFlagEverywhereCLI(t *testing.T) {
	for _, name := range []string{"--device", "--backend"} {
		cfg := parsedConfig(t, newTrainCmd(), name, "[vulkan:0, opencl, ref]")
		assert.Equal(t, []string{"vulkan:0", "opencl", "ref"}, cfg.Backend, "train "+name)
		cfg = parsedConfig(t, newEvalCmd(), name, "gpu,all,ref", "--limit", "7")
		assert.Equal(t, []string{"gpu", "all", "ref"}, cfg.Backend, "eval "+name)
		assert.Equal(t, 7, cfg.TestLimit, "eval --limit is --test-limit")

		for _, cmd := range []string{"selftest", "bench"} {
			_, _, err := execute(t, context.Background(), cmd, name, "[ref:9]")
			require.Error(t, err, cmd+" "+name)
			assert.Contains(t, err.Error(), `device "ref:9": no such device`, cmd+" "+name)
			assert.Contains(t, err.Error(), "ref:0 = pure-Go reference", cmd+" "+name)
		}
	}
	_, _, err := execute(t, context.Background(), "selftest", "--device", "gpu:1")
	require.ErrorContains(t, err, `device "gpu:1": gpu takes no selector`)

	out, errOut, err := execute(t, context.Background(), "selftest", "--backend", "[ref]", "--filter", "relu_fwd/", "--short")
	require.NoError(t, err, errOut)
	assert.Contains(t, out, "device: ref:0 pure-Go reference")
	assert.Regexp(t, `(?m)^relu_fwd +[1-9]`, out, "checks ran")

	devs, err := selftestTargets([]string{"all", "ref"})
	require.NoError(t, err)
	assert.Contains(t, idsOf(devs), "ref:0")
	assert.Equal(t, len(devs), len(uniq(idsOf(devs))), "each device once")
}

func idsOf(infos []backend.Info) []string {
	var out []string
	for _, i := range infos {
		out = append(out, i.ID())
	}
	return out
}

func uniq(s []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	return m
}

func TestDeviceFailureSaidOnceCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	_, errOut, code := runMain(t, nil, procArgs(t, dir, "--device", "ref:7")...)
	assert.Equal(t, 1, code)
	assert.Equal(t, 1, strings.Count(errOut, `device "ref:7": no such device`), errOut)
	assert.NoDirExists(t, dir)
}

func TestDevicesMissingBackend(t *testing.T) {
	reason := errors.New("vulkan: no Vulkan loader (libvulkan.so.1): " + strings.Repeat("install the Debian package libvulkan1 and a driver; ", 5))
	require.Greater(t, len(reason.Error()), 250)
	found := []backend.Found{
		{Backend: "ref", Devices: []backend.Info{{Backend: "ref", Type: backend.Reference, Vendor: "crossgrad", Name: "pure-Go reference"}}},
		{Backend: "vulkan", Err: reason},
		{Backend: "opencl", Devices: nil},
	}
	var b bytes.Buffer
	printDevices(&b, found, found[0].Devices[0], nil)
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	assert.Contains(t, lines, "vulkan is unavailable: "+reason.Error(), "the reason below the table")
	for _, l := range lines {
		if !strings.HasPrefix(l, "vulkan is unavailable") {
			assert.Less(t, len(l), 130, "short table lines: %q", l)
		}
	}
	assert.Regexp(t, `(?m)^vulkan +unavailable +- +\(reason below\)`, b.String())
	assert.Contains(t, b.String(), "auto selects ref:0 (pure-Go reference)")

	b.Reset()
	require.NoError(t, writeDevicesJSON(&b, found, found[0].Devices[0], nil))
	var j struct {
		Backends []struct {
			Name    string `json:"name"`
			Error   string `json:"error"`
			Devices []struct {
				ID   string `json:"id"`
				Type string `json:"type"`
				Name string `json:"name"`
			} `json:"devices"`
		} `json:"backends"`
		Auto string `json:"auto"`
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &j))
	require.Len(t, j.Backends, 3)
	assert.Equal(t, "ref:0", j.Auto)
	assert.Equal(t, "reference", j.Backends[0].Devices[0].Type)
	assert.Equal(t, "pure-Go reference", j.Backends[0].Devices[0].Name)
	assert.Equal(t, reason.Error(), j.Backends[1].Error)
	assert.NotNil(t, j.Backends[2].Devices, "an empty list, not null")
	assert.Empty(t, j.Backends[2].Devices)
}

func TestDevicesJSONCLI(t *testing.T) {
	out, _, err := execute(t, context.Background(), "devices", "--json")
	require.NoError(t, err)
	var j devicesJSON
	require.NoError(t, json.Unmarshal([]byte(out), &j))
	var ref *deviceJSON
	for _, b := range j.Backends {
		for i, d := range b.Devices {
			if d.ID == "ref:0" {
				ref = &b.Devices[i]
			}
		}
	}
	require.NotNil(t, ref, out)
	assert.Equal(t, "reference", ref.Type)
	assert.Positive(t, ref.GlobalMemory)
	assert.NotEmpty(t, j.Auto, out)
}
