package shaders

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// TestKernelSources checks that every kernel of the closed list has its
// OpenCL source, its GLSL source and its generated SPIR-V module.
func TestKernelSources(t *testing.T) {
	for _, k := range backend.Kernels() {
		for _, f := range []string{"opencl/" + string(k) + ".cl", "vulkan/" + string(k) + ".comp", "vulkan/" + string(k) + ".spv"} {
			_, err := os.Stat(f)
			assert.NoError(t, err, "kernel %s", k)
		}
		_, err := VulkanSPIRV(string(k))
		assert.NoError(t, err, "embedded SPIR-V of %s", k)
	}
}

// TestSPIRVUpToDate fails when a .spv is stale: its source (with includes)
// changed since go generate recorded its hash, or a module or its hash is
// missing, or a module has no source.
func TestSPIRVUpToDate(t *testing.T) {
	fsys := os.DirFS(".")
	raw, err := os.ReadFile(VulkanSumFile)
	require.NoError(t, err, "run go generate ./shaders/...")
	sums, err := ParseVulkanSums(string(raw))
	require.NoError(t, err)
	names, err := VulkanModules(fsys)
	require.NoError(t, err)
	require.NotEmpty(t, names)
	for _, name := range names {
		want, err := VulkanSourceSum(fsys, name)
		require.NoError(t, err)
		assert.Equal(t, want, sums[name], "vulkan/%s.spv is stale or missing: run go generate ./shaders/...", name)
		disk, err := os.ReadFile(filepath.Join("vulkan", name+".spv"))
		if assert.NoError(t, err, name) {
			emb, err := Vulkan.ReadFile("vulkan/" + name + ".spv")
			require.NoError(t, err)
			assert.True(t, bytes.Equal(disk, emb), "embedded %s.spv differs from the file", name)
		}
	}
	spvs, err := filepath.Glob(filepath.Join("vulkan", "*.spv"))
	require.NoError(t, err)
	assert.Len(t, spvs, len(names), "every .spv needs its .comp")
	assert.Len(t, sums, len(names), "spirv.sum lists exactly the modules")
}

// TestVulkanSourceSumCoversIncludes checks that editing an include changes
// the hash of the modules that include it (so their .spv count as stale).
func TestVulkanSourceSumCoversIncludes(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "vulkan"), 0o755))
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "vulkan", name), []byte(text), 0o644))
	}
	write("a.comp", "#include \"inc.glsl\"\nvoid main() {}\n")
	write("inc.glsl", "#include \"inner.glsl\"\n")
	write("inner.glsl", "// v1\n")
	s1, err := VulkanSourceSum(os.DirFS(dir), "a")
	require.NoError(t, err)
	write("inner.glsl", "// v2\n")
	s2, err := VulkanSourceSum(os.DirFS(dir), "a")
	require.NoError(t, err)
	assert.NotEqual(t, s1, s2)
	write("inc.glsl", "#include \"missing.glsl\"\n")
	_, err = VulkanSourceSum(os.DirFS(dir), "a")
	assert.Error(t, err)
}

// TestSPIRVValid runs spirv-val on every module. Without spirv-val
// (Debian package spirv-tools) it skips, except in CI.
func TestSPIRVValid(t *testing.T) {
	val, err := exec.LookPath("spirv-val")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("spirv-val not found (Debian package spirv-tools)")
		}
		t.Skip("spirv-val not found (Debian package spirv-tools)")
	}
	spvs, err := filepath.Glob(filepath.Join("vulkan", "*.spv"))
	require.NoError(t, err)
	require.NotEmpty(t, spvs)
	for _, f := range spvs {
		out, err := exec.Command(val, "--target-env", "vulkan1.1", f).CombinedOutput()
		assert.NoError(t, err, "%s: %s", f, out)
	}
}

// TestVulkanSPIRVWords checks the word conversion of an embedded module.
func TestVulkanSPIRVWords(t *testing.T) {
	w, err := VulkanSPIRV("fill")
	require.NoError(t, err)
	assert.Equal(t, uint32(0x07230203), w[0])
	_, err = VulkanSPIRV("no_such_module")
	assert.Error(t, err)
}
