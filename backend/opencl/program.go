package opencl

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/jgillich/go-opencl/cl"

	"github.com/crossgrad/crossgrad/backend"
)

// buildOptions are the options of every program build: OpenCL C 1.2 and
// no fast-math flag. Devices that can divide and take square roots correctly
// rounded (CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) are asked to, so adam's sqrt
// and resize's /255 round as the reference backend does.
// -w: compilers such as PoCL's print their warning counts (loops they
// could not unroll as asked) on the process's stderr, among the user's
// output; errors still fail the build with the log.
const buildOptions = "-cl-std=CL1.2 -w"

// correctlyRoundedOption requests correctly rounded float division and sqrt.
const correctlyRoundedOption = " -cl-fp32-correctly-rounded-divide-sqrt"

// optionsFor returns the build options for dev, with the work-group sizes
// of the one-group kernels (their local arrays) as -D options.
func optionsFor(dev *cl.Device) string {
	const singleFPConfig, correctlyRounded = 0x101B, 1 << 7
	opts := buildOptions
	if cfg, err := dev.GetInfoUlong(singleFPConfig); err == nil && cfg&correctlyRounded != 0 {
		opts += correctlyRoundedOption
	}
	return opts + defineOptions(groupDefines())
}

// define is one -D NAME=value build option.
type define struct {
	name  string
	value int
}

// defineOptions is the build-option text of defs: " -D NAME=value" each.
func defineOptions(defs []define) string {
	var sb strings.Builder
	for _, d := range defs {
		fmt.Fprintf(&sb, " -D %s=%d", d.name, d.value)
	}
	return sb.String()
}

// groupDefines are the -D options of the device program: the largest
// work-groups of softmax_xent and count_nonfinite, the sizes of their
// local arrays, the lanes of one work-item of the Winograd transforms and
// the chains of the peak kernels.
func groupDefines() []define {
	return []define{{"SOFTMAX_XENT_GROUP", softmaxGroup}, {"COUNT_NONFINITE_GROUP", countNonfiniteGroup},
		{"WINOGRAD_LANES", winogradLanes}, {"PEAK_CHAINS", peakChains}, {"PEAK_UNROLL", peakUnroll}}
}

// tiledKernels are the kernels built per tiling: NAME.cl holds kernel
// function NAME alone, which reads its tile sizes from -D options (see
// tiling.defineList), and is built by tiledKernel, apart from the device
// program, which holds every other .cl file.
var tiledKernels = map[backend.Kernel]bool{
	backend.KGemm: true, backend.KConv2DFwd: true, backend.KConv2DBwdData: true, backend.KConv2DBwdFilter: true,
}

// tiledKernelKey is the name under which d.kernels holds kernel function
// k built with tiling t: k followed by the -D options of t.
func tiledKernelKey(k backend.Kernel, t tiling) string {
	return string(k) + defineOptions(t.defineList())
}

// kernelGroupSize is CL_KERNEL_WORK_GROUP_SIZE of k on dev; tests replace
// it to mimic drivers that admit smaller work-groups than a tiling needs.
var kernelGroupSize = func(k *cl.Kernel, dev *cl.Device) (int, error) { return k.WorkGroupSize(dev) }

// tiledKernel returns the name under which d.kernels holds kernel function
// k built with tiling t (tiledKernelKey). The first call for a pair builds
// k.cl with the device's options and those of t into a program of its own
// (PoCL also caches the binary on disk); the kernel object keeps the
// program alive until Close releases it. A build that fails, or a kernel
// that admits fewer work-items per group than t's work-group
// (CL_KERNEL_WORK_GROUP_SIZE, e.g. for its registers), is an error, kept
// for later calls (and CheckTile).
func (d *Device) tiledKernel(k backend.Kernel, t tiling) (string, error) {
	key := tiledKernelKey(k, t)
	if _, ok := d.kernels[key]; ok {
		return key, nil
	}
	if err := d.usable(); err != nil {
		return "", err
	}
	if !tiledKernels[k] {
		return "", fmt.Errorf("opencl: %s is not a tiled kernel", k)
	}
	if err := t.validate(); err != nil {
		return "", err
	}
	if err := d.tileBuildErrs[key]; err != nil {
		return "", err
	}
	kern, err := buildKernel(d.ctx, d.dev, d.info.Name, openCLSources(), k, optionsFor(d.dev)+defineOptions(t.defineList()))
	if err == nil {
		if n, qerr := kernelGroupSize(kern, d.dev); qerr == nil && n < t.wgs() {
			kern.Release()
			kern = nil
			err = fmt.Errorf("opencl: %s built with tiling %s admits work-groups of at most %d work-items on %s "+
				"(CL_KERNEL_WORK_GROUP_SIZE), the tiling needs %d: choose a configuration with a smaller work-group (mdimc*ndimc)",
				k, t.name, n, d.info.Name, t.wgs())
		}
	} else {
		err = fmt.Errorf("%w (kernel %s, tiling %s)", err, k, t.name)
	}
	if err != nil {
		if d.tileBuildErrs == nil {
			d.tileBuildErrs = map[string]error{}
		}
		d.tileBuildErrs[key] = err
		return "", err
	}
	d.kernels[key] = kern
	return key, nil
}

// buildKernel builds file k.cl of fsys (with its includes) alone for dev
// with options and returns its kernel function k; the program is released
// (the kernel holds it).
func buildKernel(ctx *cl.Context, dev *cl.Device, devName string, fsys fs.FS, k backend.Kernel, options string) (*cl.Kernel, error) {
	var sb strings.Builder
	if err := appendFile(&sb, fsys, string(k)+".cl", map[string]bool{}, 0); err != nil {
		return nil, err
	}
	prog, err := buildProgram(ctx, dev, devName, sb.String(), options)
	if err != nil {
		return nil, err
	}
	defer prog.Release()
	kern, err := prog.CreateKernel(string(k))
	if err != nil {
		return nil, fmt.Errorf("opencl: creating kernel %s: %w", k, wrapCL("clCreateKernel", err))
	}
	return kern, nil
}

var (
	includeRE = regexp.MustCompile(`^\s*#\s*include\s+"([^"]+)"\s*$`)
	kernelRE  = regexp.MustCompile(`(?m)^\s*(?:__)?kernel\s+(?:__attribute__\s*\(\(.*?\)\)\s*)*void\s+(\w+)\s*\(`)
	commentRE = regexp.MustCompile(`(?s)/\*.*?\*/|//[^\n]*`)
)

// programSource concatenates every .cl file of the root of fsys but those
// of tiledKernels, in name order, into one translation unit, replacing each
// #include "x.h" with the header from fsys (each header once; they also
// have include guards). #line directives keep build-log positions pointing
// at the original files.
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
		if tiledKernels[backend.Kernel(strings.TrimSuffix(n, ".cl"))] {
			continue
		}
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
