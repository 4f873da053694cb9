package opencl

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/jgillich/go-opencl/cl"
)

// buildOptions are the options of the one program build: OpenCL C 1.2 and
// no fast-math flag. Devices that can divide and take square roots correctly
// rounded (CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) are asked to, so adam's sqrt
// and resize's /255 round as the reference backend does.
const buildOptions = "-cl-std=CL1.2"

// correctlyRoundedOption requests correctly rounded float division and sqrt.
const correctlyRoundedOption = " -cl-fp32-correctly-rounded-divide-sqrt"

// optionsFor returns the build options for dev.
func optionsFor(dev *cl.Device) string {
	const singleFPConfig, correctlyRounded = 0x101B, 1 << 7
	if cfg, err := dev.GetInfoUlong(singleFPConfig); err == nil && cfg&correctlyRounded != 0 {
		return buildOptions + correctlyRoundedOption
	}
	return buildOptions
}

var (
	includeRE = regexp.MustCompile(`^\s*#\s*include\s+"([^"]+)"\s*$`)
	kernelRE  = regexp.MustCompile(`(?m)^\s*(?:__)?kernel\s+(?:__attribute__\s*\(\(.*?\)\)\s*)*void\s+(\w+)\s*\(`)
	commentRE = regexp.MustCompile(`(?s)/\*.*?\*/|//[^\n]*`)
)

// programSource concatenates every .cl file of the root of fsys, in name
// order, into one translation unit, replacing each #include "x.h" with the
// header from fsys (each header once; they also have include guards). #line
// directives keep build-log positions pointing at the original files.
func programSource(fsys fs.FS) (string, error) {
	names, err := fs.Glob(fsys, "*.cl")
	if err != nil {
		return "", err
	}
	if len(names) == 0 {
		return "", fmt.Errorf("opencl: no .cl kernel sources embedded")
	}
	sort.Strings(names)
	var sb strings.Builder
	seen := map[string]bool{}
	for _, n := range names {
		if err := appendFile(&sb, fsys, n, seen, 0); err != nil {
			return "", err
		}
	}
	return sb.String(), nil
}

func appendFile(sb *strings.Builder, fsys fs.FS, name string, seen map[string]bool, depth int) error {
	if depth > 16 {
		return fmt.Errorf("opencl: includes nested too deep at %s", name)
	}
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("opencl: kernel source %s: %w", name, err)
	}
	fmt.Fprintf(sb, "#line 1 %q\n", name)
	for i, line := range strings.Split(string(data), "\n") {
		m := includeRE.FindStringSubmatch(line)
		if m == nil {
			sb.WriteString(line)
			sb.WriteByte('\n')
			continue
		}
		inc := path.Clean(m[1])
		if !seen[inc] {
			seen[inc] = true
			if err := appendFile(sb, fsys, inc, seen, depth+1); err != nil {
				return fmt.Errorf("%w (included from %s:%d)", err, name, i+1)
			}
		}
		fmt.Fprintf(sb, "#line %d %q\n", i+2, name)
	}
	return nil
}

// kernelNames lists the kernel functions defined in src (comments skipped).
func kernelNames(src string) []string {
	var out []string
	for _, m := range kernelRE.FindAllStringSubmatch(commentRE.ReplaceAllString(src, " "), -1) {
		out = append(out, m[1])
	}
	return out
}

// buildProgram compiles src for dev in ctx with options (see optionsFor). A failure returns an *Error
// holding the native code and the trimmed build log, naming the device.
func buildProgram(ctx *cl.Context, dev *cl.Device, devName, src, options string) (*cl.Program, error) {
	prog, err := ctx.CreateProgramWithSource([]string{src})
	if err != nil {
		return nil, fmt.Errorf("opencl: creating the kernel program for %s: %w", devName, wrapCL("clCreateProgramWithSource", err))
	}
	if err := prog.BuildProgram([]*cl.Device{dev}, options); err != nil {
		prog.Release()
		return nil, fmt.Errorf("opencl: building the kernels for %s (options %q): %w", devName, options, wrapCL("clBuildProgram", err))
	}
	return prog, nil
}

// createKernels creates one kernel object per kernel function of src.
func createKernels(prog *cl.Program, src string) (map[string]*cl.Kernel, error) {
	ks := map[string]*cl.Kernel{}
	for _, name := range kernelNames(src) {
		if _, dup := ks[name]; dup {
			continue
		}
		k, err := prog.CreateKernel(name)
		if err != nil {
			for _, k := range ks {
				k.Release()
			}
			return nil, fmt.Errorf("opencl: creating kernel %s: %w", name, wrapCL("clCreateKernel", err))
		}
		ks[name] = k
	}
	return ks, nil
}

// kernelWorkGroupSizes returns each kernel's largest work-group size on dev
// (CL_KERNEL_WORK_GROUP_SIZE), fallback where the query fails.
func kernelWorkGroupSizes(ks map[string]*cl.Kernel, dev *cl.Device, fallback int) map[string]int {
	out := make(map[string]int, len(ks))
	for name, k := range ks {
		n, err := k.WorkGroupSize(dev)
		if err != nil || n <= 0 {
			n = fallback
		}
		out[name] = n
	}
	return out
}
