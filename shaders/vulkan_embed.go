package shaders

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Vulkan holds the Vulkan compute shaders: vulkan/<name>.spv, the SPIR-V
// (Vulkan 1.1) compiled by go generate from vulkan/<name>.comp, one module per
// kernel of backend.Kernels() plus helper passes named <kernel>_<suffix>;
// the GLSL sources and includes (vulkan/*.comp, vulkan/*.glsl); and
// vulkan/spirv.sum, the source hash of every module at generation time (see
// VulkanSourceSum). Every module's entry point is "main". Read-only, shared.
//
//go:embed vulkan
var Vulkan embed.FS

// GLSLCArgs are the glslc flags every module is compiled with (the source,
// -I and -o come after). They are part of each module's source hash.
var GLSLCArgs = []string{"-O", "--target-env=vulkan1.1"}

// VulkanSumFile is the path, within the shaders directory and Vulkan, of the
// file listing the source hash of every generated module.
const VulkanSumFile = "vulkan/spirv.sum"

var includeRE = regexp.MustCompile(`(?m)^\s*#\s*include\s+"([^"]+)"`)

// VulkanSourceSum is the hex SHA-256 of the GLSL source vulkan/<name>.comp
// read from fsys, of every file it includes (transitively, relative to
// vulkan/, each once in order of first inclusion) and of GLSLCArgs. A module
// is stale when the sum recorded for it in VulkanSumFile differs.
func VulkanSourceSum(fsys fs.FS, name string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "glslc %s\n", strings.Join(GLSLCArgs, " "))
	seen := map[string]bool{}
	var add func(file string) error
	add = func(file string) error {
		if seen[file] {
			return nil
		}
		seen[file] = true
		src, err := fs.ReadFile(fsys, path.Join("vulkan", file))
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", file, len(src))
		h.Write(src)
		for _, m := range includeRE.FindAllSubmatch(src, -1) {
			if err := add(string(m[1])); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
		}
		return nil
	}
	if err := add(name + ".comp"); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// VulkanModules lists the module names (file names without .comp) of every
// GLSL source vulkan/*.comp in fsys, sorted.
func VulkanModules(fsys fs.FS) ([]string, error) {
	files, err := fs.Glob(fsys, "vulkan/*.comp")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(path.Base(f), ".comp"))
	}
	sort.Strings(names)
	return names, nil
}

// ParseVulkanSums parses the text of VulkanSumFile: lines "<sum> <name>".
func ParseVulkanSums(text string) (map[string]string, error) {
	sums := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"<sum> <name>\", got %q", VulkanSumFile, i+1, line)
		}
		sums[f[1]] = f[0]
	}
	return sums, nil
}

// VulkanSPIRV returns the SPIR-V words of module name (a kernel name or a
// helper pass such as "conv2d_bwd_filter_reduce"), copied out of Vulkan
// little-endian so that the result is aligned. The slice is owned by the
// caller.
func VulkanSPIRV(name string) ([]uint32, error) {
	b, err := Vulkan.ReadFile("vulkan/" + name + ".spv")
	if err != nil {
		return nil, fmt.Errorf("shaders: no SPIR-V module %q (run go generate ./shaders/...): %w", name, err)
	}
	if len(b) == 0 || len(b)%4 != 0 {
		return nil, fmt.Errorf("shaders: SPIR-V module %q has %d bytes, not a positive multiple of 4", name, len(b))
	}
	words := make([]uint32, len(b)/4)
	for i := range words {
		words[i] = uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24
	}
	if words[0] != 0x07230203 {
		return nil, fmt.Errorf("shaders: %q is not SPIR-V (magic %#x)", name, words[0])
	}
	return words, nil
}
