package backendtest

import (
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strings"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
)

// Options selects what Run runs.
type Options struct {
	// Filter keeps only the checks whose "kernel/case" name contains it
	// ("" keeps all): "gemm", "conv2d_bwd", "alexnet", "relu_fwd/inplace".
	Filter string
	// Short skips the Large cases (the AlexNet-width convolutions and fully
	// connected layers).
	Short bool
	// Progress, when set, is called with each result as soon as it is known.
	Progress func(Result)
}

func (o Options) keep(kernel backend.Kernel, name string) bool {
	return strings.Contains(string(kernel)+"/"+name, o.Filter)
}

// Run runs the suite on dev against a fresh reference device (closed before
// returning) and reports every check. It never panics on a backend's
// failure: a dispatch or read error, a panic inside the backend, or a wrong
// result each become a failed Result. dev stays open and owned by the
// caller; every buffer the suite allocates on it is released.
func Run(dev backend.Device, opts Options) Report {
	var rep Report
	if err := safely(func() error { rep.Device = dev.Info(); return nil }); err != nil {
		rep.Device.Name = "Info failed: " + err.Error()
	}
	r := NewRunner(dev)
	defer r.Close()
	add := func(res Result) {
		rep.Results = append(rep.Results, res)
		if opts.Progress != nil {
			opts.Progress(res)
		}
	}
	for _, k := range backend.Kernels() {
		for _, c := range CasesOf(k) {
			if (opts.Short && c.Large) || !opts.keep(k, c.Name) {
				continue
			}
			add(r.RunCase(c))
		}
		if opts.keep(k, BadInputsName) {
			add(r.BadInputs(k))
		}
	}
	if opts.keep(IOKernel, IOName) {
		add(r.CheckIO())
	}
	return rep
}

// CasesOf returns the cases of kernel k, in Cases() order.
func CasesOf(k backend.Kernel) []Case {
	var out []Case
	for _, c := range Cases() {
		if c.Kernel() == k {
			out = append(out, c)
		}
	}
	return out
}

// Runner runs single checks of the suite on one device under test against a
// reference device. Use NewRunner, then Close. A Runner (and those made by
// its For) is not safe for concurrent use.
type Runner struct {
	dev, ref backend.Device
	want     map[string][][]float32 // reference results by case, shared by For
	shared   bool                   // made by For: Close leaves ref open
}

// NewRunner returns a Runner for dev with its own reference device; dev
// stays owned by the caller, Close closes only the reference device.
func NewRunner(dev backend.Device) *Runner {
	return &Runner{dev: dev, ref: ref.New(), want: map[string][][]float32{}}
}

// For returns a Runner for dev that shares r's reference device and its
// remembered reference results, so that running the same cases on many
// variants of a device computes each reference once. Its Close does
// nothing; r must stay open while it is used.
func (r *Runner) For(dev backend.Device) *Runner {
	return &Runner{dev: dev, ref: r.ref, want: r.want, shared: true}
}

// Close closes the reference device (nothing for a Runner made by For).
func (r *Runner) Close() error {
	if r.shared {
		return nil
	}
	return r.ref.Close()
}

// reference runs c on the reference device once per Runner family and
// returns its buffers (read-only for the caller).
func (r *Runner) reference(c Case, in [][]float32) ([][]float32, error) {
	key := fmt.Sprintf("%s %#v", c.FullName(), c.Params)
	if w, ok := r.want[key]; ok {
		return w, nil
	}
	want, err := execute(r.ref, c, in)
	if err == nil {
		err = unchanged(c, in, want)
	}
	if err == nil {
		r.want[key] = want
	}
	return want, err
}

// RunCase runs c on the device under test and on the reference device with
// identical inputs (output-only buffers poisoned with NaN on both), checks
// that the buffers the kernel only reads come back unchanged and compares
// every output buffer, slack included.
func (r *Runner) RunCase(c Case) (res Result) {
	res = Result{Kernel: c.Kernel(), Case: c.Name, Tol: c.Tolerance()}
	in := c.Inputs()
	want, err := r.reference(c, in)
	if err != nil {
		res.Err = fmt.Errorf("reference device: %w", err)
		return res
	}
	start := time.Now()
	got, err := execute(r.dev, c, in)
	res.Duration = time.Since(start)
	if err == nil {
		err = unchanged(c, in, got)
	}
	if err != nil {
		res.Err = err
		return res
	}
	compare(&res, c, want, got)
	return res
}

// unchanged checks that every ReadOnly slot of c read back in got holds
// its initial contents in bit for bit.
func unchanged(c Case, in, got [][]float32) error {
	roles := c.Params.Buffers()
	for _, i := range c.ReadOnly() {
		for k := range in[i] {
			if math.Float32bits(got[i][k]) != math.Float32bits(in[i][k]) {
				return fmt.Errorf("%w: buffer %d (%s) element %d was %v before the dispatch, %v after",
					ErrWroteInput, i, roles[i].Name, k, in[i][k], got[i][k])
			}
		}
	}
	return nil
}

// execute allocates c's buffers on d, writes in, dispatches, reads back the
// output and read-only slots (nil for the others) and releases the buffers.
// A panic inside d becomes an error.
func execute(d backend.Device, c Case, in [][]float32) (out [][]float32, err error) {
	err = safely(func() error {
		bufs := make([]backend.Buffer, len(in))
		defer func() {
			for i, b := range bufs {
				if _, alias := c.Alias[i]; b != nil && !alias {
					b.Release()
				}
			}
		}()
		for i := range in {
			if j, ok := c.Alias[i]; ok {
				bufs[i] = bufs[j]
				continue
			}
			b, err := d.Alloc(len(in[i]))
			if err != nil {
				return fmt.Errorf("alloc buffer %d (%d elements): %w", i, len(in[i]), err)
			}
			bufs[i] = b
			if err := d.Write(b, 0, in[i]); err != nil {
				return fmt.Errorf("write buffer %d: %w", i, err)
			}
		}
		if err := d.Dispatch(c.Params, bufs...); err != nil {
			return fmt.Errorf("dispatch: %w", err)
		}
		out = make([][]float32, len(in))
		for _, i := range append(c.Outputs(), c.ReadOnly()...) {
			out[i] = make([]float32, len(in[i]))
			if err := d.Read(bufs[i], 0, out[i]); err != nil {
				return fmt.Errorf("read buffer %d: %w", i, err)
			}
		}
		return nil
	})
	return out, err
}

// compare fills res from the outputs: every required element within the
// tolerance, every slack element still SlackValue.
func compare(res *Result, c Case, want, got [][]float32) {
	sizes := c.Params.BufferSizes()
	res.Pass = true
	worst := -1.0
	for _, o := range c.Outputs() {
		for i := range got[o] {
			g, w := float64(got[o][i]), float64(want[o][i])
			tol := res.Tol
			if i >= sizes[o] { // slack: must be untouched
				w, tol = float64(SlackValue), Tolerance{}
			}
			res.Elements++
			e := tol.excess(g, w)
			if e > 1 {
				res.Pass = false
				res.Mismatches++
			}
			d := math.Abs(g - w)
			if math.IsNaN(g) || math.IsNaN(d) {
				d = math.Inf(1)
			}
			res.MaxAbsErr = max(res.MaxAbsErr, d)
			if e > worst {
				worst = e
				res.Ratio = e
				res.Worst = Element{Buffer: o, Index: i, Ref: w, Got: g, Slack: i >= sizes[o]}
			}
		}
	}
}

// safely runs f, turning a panic into an error carrying the stack.
func safely(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v\n%s", ErrPanic, p, debug.Stack())
		}
	}()
	return f()
}

// ErrPanic wraps a panic recovered from a backend.
var ErrPanic = errors.New("panic in backend")

// ErrWroteInput is the failure of a case whose dispatch changed a buffer
// that the kernel's roles say it only reads.
var ErrWroteInput = errors.New("kernel wrote a buffer it only reads")
