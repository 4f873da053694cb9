// Command genspirv compiles every GLSL compute shader shaders/vulkan/*.comp
// into shaders/vulkan/*.spv with glslc (flags shaders.GLSLCArgs), removes
// modules whose source is gone, and writes shaders/vulkan/spirv.sum with the
// source hash of each module (shaders.VulkanSourceSum) so a test can detect
// stale SPIR-V. Run through go generate ./shaders/... from the shaders
// directory; it needs glslc (Debian package glslc).
package main

import (
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/crossgrad/crossgrad/shaders"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("genspirv: ")
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	glslc, err := exec.LookPath("glslc")
	if err != nil {
		return fmt.Errorf("glslc not found (install the Debian package glslc): %w", err)
	}
	fsys := os.DirFS(".")
	names, err := shaders.VulkanModules(fsys)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return fmt.Errorf("no vulkan/*.comp found; run from the shaders directory")
	}
	var sum strings.Builder
	sum.WriteString("# Source hash (shaders.VulkanSourceSum) of each module at generation time.\n")
	keep := map[string]bool{}
	for _, name := range names {
		args := append(append([]string{}, shaders.GLSLCArgs...), "-I", "vulkan",
			filepath.Join("vulkan", name+".comp"), "-o", filepath.Join("vulkan", name+".spv"))
		cmd := exec.Command(glslc, args...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("glslc %s: %w\n%s", name, err, out)
		}
		if len(out) > 0 {
			fmt.Fprintf(os.Stderr, "%s", out)
		}
		s, err := shaders.VulkanSourceSum(fsys, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(&sum, "%s %s\n", s, name)
		keep[name+".spv"] = true
	}
	old, _ := filepath.Glob(filepath.Join("vulkan", "*.spv"))
	for _, f := range old {
		if !keep[filepath.Base(f)] {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	return os.WriteFile(shaders.VulkanSumFile, []byte(sum.String()), 0o644)
}
