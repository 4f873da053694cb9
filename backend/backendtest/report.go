package backendtest

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"

	"github.com/crossgrad/crossgrad/backend"
)

// Names of the checks that are not numeric cases.
const (
	// BadInputsName is the case name of each kernel's bad-dispatch check.
	BadInputsName = "bad_inputs"
	// IOKernel and IOName name the Write/Read check.
	IOKernel backend.Kernel = "io"
	IOName                  = "write_read"
)

// Element locates one compared output element and its two values.
type Element struct {
	Buffer int     // buffer slot in dispatch order
	Index  int     // element index within the buffer
	Ref    float64 // reference value (SlackValue in the slack)
	Got    float64 // value read from the device under test
	Slack  bool    // the element lies in the slack after the required size
}

// Result is the outcome of one check.
type Result struct {
	Kernel backend.Kernel // kernel checked (IOKernel for the Write/Read check)
	Case   string         // Case.Name, BadInputsName or IOName
	Pass   bool           // the check passed
	// Err is the failure of a check that produced no comparable output
	// (dispatch, read or reference error, recovered panic, a bad input that
	// was accepted) or changed a buffer it only reads (ErrWroteInput); nil
	// otherwise.
	Err error
	// Tol is the tolerance the outputs were held to.
	Tol Tolerance
	// MaxAbsErr is the largest |got-ref| over all compared elements (+Inf
	// when got holds NaN).
	MaxAbsErr float64
	// Worst is the element furthest outside (or closest to the edge of) its
	// tolerance, relative to the allowed error.
	Worst Element
	// Ratio is Worst's |got-ref| divided by its allowed error: <= 1 passes,
	// +Inf for NaN or for any difference where the tolerance is exact.
	Ratio float64
	// Mismatches counts the elements outside the tolerance, of Elements
	// compared.
	Mismatches, Elements int
	// Duration is the device under test's time for the case, allocation,
	// transfers and dispatch included.
	Duration time.Duration
}

// Name is "kernel/case".
func (r Result) Name() string { return string(r.Kernel) + "/" + r.Case }

// Detail describes the result in one line: the error, or the worst element.
func (r Result) Detail() string {
	if r.Err != nil {
		return "error: " + r.Err.Error()
	}
	where := fmt.Sprintf("buffer %d[%d]", r.Worst.Buffer, r.Worst.Index)
	if r.Worst.Slack {
		where += " (slack past the required size)"
	}
	return fmt.Sprintf("%d/%d elements outside |got-ref| <= %g + %g*|ref|; max |err| %.3g; worst at %s: got %v, ref %v",
		r.Mismatches, r.Elements, r.Tol.Atol, r.Tol.Rtol, r.MaxAbsErr, where, r.Worst.Got, r.Worst.Ref)
}

// Report is the outcome of Run on one device.
type Report struct {
	Device  backend.Info
	Results []Result
}

// Failed reports whether any check failed.
func (r Report) Failed() bool {
	for _, res := range r.Results {
		if !res.Pass {
			return true
		}
	}
	return false
}

// KernelSummary aggregates the results of one kernel (one row of the
// pass/fail table).
type KernelSummary struct {
	Kernel       backend.Kernel
	Checks       int           // results of the kernel, bad_inputs included
	Failed       int           // results that did not pass
	MaxAbsErr    float64       // largest Result.MaxAbsErr of the kernel
	WorstCase    string        // case of MaxAbsErr
	MaxRatio     float64       // largest Result.Ratio: how close to its tolerance
	Duration     time.Duration // summed Result.Duration
	FirstFailure string        // case and detail of the first failed check
}

// Summary is one row per kernel that has results, in backend.Kernels()
// order followed by the io check.
func (r Report) Summary() []KernelSummary {
	var out []KernelSummary
	for _, k := range append(backend.Kernels(), IOKernel) {
		s := KernelSummary{Kernel: k}
		for _, res := range r.Results {
			if res.Kernel != k {
				continue
			}
			s.Checks++
			s.Duration += res.Duration
			if !res.Pass {
				s.Failed++
				if s.FirstFailure == "" {
					s.FirstFailure = res.Case + ": " + res.Detail()
				}
			}
			s.MaxRatio = max(s.MaxRatio, res.Ratio)
			if res.MaxAbsErr > s.MaxAbsErr || (s.WorstCase == "" && res.Elements > 0) {
				s.MaxAbsErr, s.WorstCase = res.MaxAbsErr, res.Case
			}
		}
		if s.Checks > 0 {
			out = append(out, s)
		}
	}
	return out
}

// Format writes the device, a pass/fail table per kernel and the detail of
// every failed check to w.
func (r Report) Format(w io.Writer) error {
	fmt.Fprintf(w, "device: %s\n", r.Device)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "kernel\tchecks\tfailed\tmax |err|\terr/tol\tworst case\ttime\tresult")
	failed := 0
	for _, s := range r.Summary() {
		verdict := "PASS"
		if s.Failed > 0 {
			verdict = "FAIL"
		}
		failed += s.Failed
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", s.Kernel, s.Checks, s.Failed, fmtErr(s.MaxAbsErr),
			fmtErr(s.MaxRatio), s.WorstCase, s.Duration.Round(time.Millisecond), verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, res := range r.Results {
		if !res.Pass {
			fmt.Fprintf(w, "FAIL %s: %s\n", res.Name(), res.Detail())
		}
	}
	if failed == 0 {
		_, err := fmt.Fprintf(w, "all %d checks passed\n", len(r.Results))
		return err
	}
	_, err := fmt.Fprintf(w, "%d of %d checks failed\n", failed, len(r.Results))
	return err
}

func fmtErr(e float64) string {
	if math.IsInf(e, 1) {
		return "NaN/Inf"
	}
	return fmt.Sprintf("%.3g", e)
}
