package train

import (
	"fmt"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/crossgrad/crossgrad/graph"
)

// TensorStats summarises one tensor read back from the device: the range
// and mean of its finite values and how many values are NaN or infinite.
type TensorStats struct {
	Name           string
	N              int // values read
	Min, Max, Mean float64
	NaN, Inf       int
}

// StatsOf computes the statistics of d under name.
func StatsOf(name string, d []float32) TensorStats {
	s := TensorStats{Name: name, N: len(d), Min: math.Inf(1), Max: math.Inf(-1)}
	var sum float64
	finite := 0
	for _, v := range d {
		x := float64(v)
		switch {
		case math.IsNaN(x):
			s.NaN++
		case math.IsInf(x, 0):
			s.Inf++
		default:
			finite++
			sum += x
			s.Min, s.Max = math.Min(s.Min, x), math.Max(s.Max, x)
		}
	}
	if finite == 0 {
		s.Min, s.Max, s.Mean = math.NaN(), math.NaN(), math.NaN()
	} else {
		s.Mean = sum / float64(finite)
	}
	return s
}

// NonFiniteError reports a NaN or infinite training loss: where it happened
// and the per-layer statistics read back right after that step (parameters
// after the update, their gradients and the activations of the step).
type NonFiniteError struct {
	Step, Epoch, Batch int // global step (1-based), epoch (1-based) and batch within it (0-based)
	Loss               float32
	Stats              []TensorStats
	StatsErr           error // why some statistics could not be read, or nil
}

// Error formats the step, the loss and a table of the statistics.
func (e *NonFiniteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "train: loss is %v at step %d (epoch %d, batch %d); training stopped, no checkpoint written for this step. "+
		"Try a lower lr, or resume from the last checkpoint. Statistics read back after the step (finite values only):\n",
		e.Loss, e.Step, e.Epoch, e.Batch)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  tensor\tvalues\tmin\tmax\tmean\tNaN\tInf")
	for _, s := range e.Stats {
		fmt.Fprintf(tw, "  %s\t%d\t%.4g\t%.4g\t%.4g\t%d\t%d\n", s.Name, s.N, s.Min, s.Max, s.Mean, s.NaN, s.Inf)
	}
	_ = tw.Flush()
	if e.StatsErr != nil {
		fmt.Fprintf(&b, "  (some statistics unavailable: %v)\n", e.StatsErr)
	}
	return strings.TrimRight(b.String(), "\n")
}

// layerStats reads the parameters, their gradients and the activations of
// the last step's first n images back and summarises each; the activation
// buffers are found by name among the plan's buffers.
func (o *Opened) layerStats(n int) ([]TensorStats, error) {
	p := o.Plan
	var out []TensorStats
	params, err := p.ReadParams()
	if err != nil {
		return out, err
	}
	grads, err := p.ReadTensors(p.Grads())
	if err != nil {
		return out, err
	}
	for i, t := range params {
		out = append(out, StatsOf(t.Name, t.Data))
		out = append(out, StatsOf(grads[i].Name, grads[i].Data))
	}
	lo := p.Layout()
	for _, spec := range lo.Buffers {
		if spec.Kind != graph.KindActivation {
			continue
		}
		t, err := p.Tensor(spec.Name)
		if err != nil {
			return out, err
		}
		if spec.Elems%lo.Batch != 0 {
			return out, fmt.Errorf("activation buffer %s: %d elements is not a whole number per image of batch %d", spec.Name, spec.Elems, lo.Batch)
		}
		d := make([]float32, spec.Elems/lo.Batch*n)
		if err := o.Dev.Read(t.Buffer, 0, d); err != nil {
			return out, fmt.Errorf("reading %s: %w", spec.Name, err)
		}
		out = append(out, StatsOf(spec.Name, d))
	}
	return out, nil
}

// finite reports whether x is neither NaN nor infinite.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
