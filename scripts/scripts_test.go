// Package scripts holds the tests of the shell scripts in this folder: the
// set-up script a fresh machine runs, and the quickstart that builds and
// trains.
package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeBin is a folder of stand-in commands for setup.sh: id reports uid,
// dpkg-query reports every package installed except those in missing, and
// apt-get, go, clinfo and (when withSudo) sudo append their arguments to
// calls.log. Real grep, sed, env and dirname are linked in; nothing else is
// on PATH.
func fakeBin(t *testing.T, uid string, missing []string, withSudo bool) (dir, calls string) {
	t.Helper()
	dir = t.TempDir()
	calls = filepath.Join(dir, "calls.log")
	for _, tool := range []string{"grep", "sed", "env", "dirname", "cat"} {
		p, err := exec.LookPath(tool)
		require.NoError(t, err)
		require.NoError(t, os.Symlink(p, filepath.Join(dir, tool)))
	}
	write := func(name, body string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/bash\n"+body+"\n"), 0o755))
	}
	write("id", `echo `+uid)
	cases := ""
	for _, m := range missing {
		cases += m + ") exit 1 ;; "
	}
	write("dpkg-query", `pkg="${@: -1}"; case "$pkg" in `+cases+`*) printf 'install ok installed' ;; esac`)
	for _, name := range []string{"apt-get", "go", "clinfo"} {
		write(name, `echo "`+name+` $*" >> `+calls)
	}
	if withSudo {
		write("sudo", `echo "sudo $*" >> `+calls+`; "$@"`)
	}
	return dir, calls
}

// runSetup runs setup.sh with PATH set to bin only.
func runSetup(t *testing.T, bin string) (string, error) {
	t.Helper()
	cmd := exec.Command("/bin/bash", "setup.sh")
	cmd.Env = []string{"PATH=" + bin, "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func readCalls(t *testing.T, calls string) string {
	t.Helper()
	b, err := os.ReadFile(calls)
	if os.IsNotExist(err) {
		return ""
	}
	require.NoError(t, err)
	return string(b)
}

func TestSetupAsUserWithEverythingInstalledNeedsNoRoot(t *testing.T) {
	bin, calls := fakeBin(t, "1000", nil, false)
	out, err := runSetup(t, bin)
	require.NoError(t, err, out)
	assert.Contains(t, out, "already installed")
	log := readCalls(t, calls)
	assert.Contains(t, log, "go mod download")
	assert.NotContains(t, log, "apt-get")
}

func TestSetupAsUserInstallsMissingPackagesThroughSudo(t *testing.T) {
	bin, calls := fakeBin(t, "1000", []string{"pocl-opencl-icd", "glslc"}, true)
	out, err := runSetup(t, bin)
	require.NoError(t, err, out)
	log := readCalls(t, calls)
	assert.Contains(t, log, "sudo env DEBIAN_FRONTEND=noninteractive apt-get update")
	assert.Regexp(t, `sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pocl-opencl-icd glslc\n`, log)
}

func TestSetupAsRootCallsAptDirectly(t *testing.T) {
	bin, calls := fakeBin(t, "0", []string{"dataset-fashion-mnist"}, true)
	out, err := runSetup(t, bin)
	require.NoError(t, err, out)
	log := readCalls(t, calls)
	assert.NotContains(t, log, "sudo")
	assert.Contains(t, log, "apt-get install -y -qq --no-install-recommends dataset-fashion-mnist")
}

func TestSetupAsUserWithoutSudoSaysWhatToDo(t *testing.T) {
	bin, calls := fakeBin(t, "1000", []string{"mesa-vulkan-drivers"}, false)
	out, err := runSetup(t, bin)
	require.Error(t, err)
	assert.Contains(t, out, "mesa-vulkan-drivers")
	assert.Contains(t, out, "run this again as root, or install sudo")
	assert.Empty(t, readCalls(t, calls), "nothing may be installed or downloaded")
}

func TestSetupWithoutGoNamesTheVersionToInstall(t *testing.T) {
	bin, _ := fakeBin(t, "0", nil, false)
	require.NoError(t, os.Remove(filepath.Join(bin, "go")))
	out, err := runSetup(t, bin)
	require.Error(t, err)
	assert.Regexp(t, `install Go 1\.\d+(\.\d+)? or newer from https://go.dev/dl/`, out)
}

// TestQuickstartChoosesTheSettingForTheDevicesFound runs the real set-up and
// build of quickstart.sh on this machine and checks the train command it
// chooses against what `crossgrad devices --json` reports.
func TestQuickstartChoosesTheSettingForTheDevicesFound(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("sudo"); err != nil {
			t.Skip("set-up needs root or sudo to check the installed packages")
		}
	}
	cmd := exec.Command("/bin/bash", "quickstart.sh", "--print-command")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	devs, err := exec.Command("../crossgrad", "devices", "--json").Output()
	require.NoError(t, err)
	if strings.Contains(string(devs), `-gpu"`) {
		assert.Equal(t, "./crossgrad train --config default", last)
		assert.Contains(t, string(out), "a GPU was found")
	} else {
		assert.Equal(t, "./crossgrad train --config cpu-quick", last)
		assert.Contains(t, string(out), "no GPU found, only CPU drivers")
		assert.Contains(t, string(out), "force it with: scripts/quickstart.sh --config default")
	}
	forced := exec.Command("/bin/bash", "quickstart.sh", "--print-command", "--config", "default", "--epochs", "1")
	out, err = forced.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.True(t, strings.HasSuffix(strings.TrimSpace(string(out)), "./crossgrad train --config default --epochs 1"), string(out))
}
