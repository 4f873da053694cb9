package graph

import (
	"fmt"
	"strings"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/layers"
)

// The values of Config.ConvAlgo and ConvPass.Algo.
const (
	// ConvAuto (or "") runs each layer that admits Winograd with the
	// algorithm the tuner chose (tune: auto or cached), else by the rule:
	// for 3x3 and 5x5 kernels Winograd on every device but the reference,
	// which keeps implicit GEMM as the ground truth the other backends are
	// checked against; for the other kernels over 3x3 (run as 3x3 blocks)
	// implicit GEMM (ruleOverThree).
	ConvAuto = "auto"
	// ConvGemm runs every convolution as implicit GEMM (conv2d_fwd,
	// conv2d_bwd_data): the plans before the algorithm choice, bit for bit.
	ConvGemm = "gemm"
	// ConvWinograd runs every pass that admits it (stride 1, kernels 3x3
	// to 6x6: 5x5 as one F(2x2,5x5) block, the others over 3x3 as 3x3
	// blocks) as Winograd: F(2x2,3x3) (or F(2x2,5x5)) for the forward
	// output and the input gradient, F(3x3,2x2) (F(5x5,2x2)) for the filter
	// gradient; the others use implicit GEMM (ConvNote).
	ConvWinograd = "winograd"
	// ConvWinograd4 is an Algo of a ConvPass, not a conv_algo value: the
	// pass runs as Winograd F(4x4,3x3) (backend.WinogradConv4; the filter
	// gradient F(3x3,4x4), backend.WinogradGrad4), which only the tuner
	// chooses (conv_algo auto with tuning on), where it timed it faster
	// than F(2x2,3x3) and implicit GEMM.
	ConvWinograd4 = "winograd4"
)

// The passes of a ConvPass.
const (
	PassForward        = "forward"         // the layer's output y
	PassBackwardData   = "backward-data"   // the input gradient dx
	PassBackwardFilter = "backward-filter" // the parameter gradients dw, db
)

// ParseConvAlgo returns the conv_algo value s ("" is auto), or an error
// naming the key and the values.
func ParseConvAlgo(s string) (string, error) {
	switch s {
	case "", ConvAuto:
		return ConvAuto, nil
	case ConvGemm, ConvWinograd:
		return s, nil
	}
	return "", fmt.Errorf("conv_algo: unknown value %q (want %s, %s or %s)", s, ConvAuto, ConvGemm, ConvWinograd)
}

// ConvPass is the algorithm of one product (forward output, input gradient
// or filter gradient) of one convolution layer of a plan.
type ConvPass struct {
	Layer int    // index of the layer in the model
	Name  string // the layer's name, e.g. "conv.6"
	Pass  string // PassForward, PassBackwardData or PassBackwardFilter
	Algo  string // ConvGemm, ConvWinograd or ConvWinograd4
	// Reason says why Algo: the conv_algo value, the rule, the tuner's
	// timings, or why the layer does not admit Winograd.
	Reason string
	// Winograd reports whether the pass can run as Winograd in this plan
	// (the layer admits it, its buffers fit the device, scratch is planned).
	Winograd bool
	// Winograd4 reports whether it can also run as F(4x4,3x3) (the filter
	// gradient as F(3x3,4x4)): a pass of a 3x3 layer that admits Winograd,
	// under conv_algo auto with tuning on (Config.TunedAlgos), whose
	// buffers fit the device; its scratch is planned with the others'.
	Winograd4 bool

	refused bool // the layer or the device does not admit Winograd
	bound   bool // refused by the device's binding limit
}

// String is e.g. "conv.6 forward winograd (rule: ...)".
func (c ConvPass) String() string {
	return fmt.Sprintf("%s %s %s (%s)", c.Name, c.Pass, c.Algo, c.Reason)
}

// ConvAlgos lists the algorithm of every convolution pass of the layout,
// layer by layer, forward, backward-data, backward-filter (a layer whose
// input needs no gradient has no backward-data pass).
func (lo *Layout) ConvAlgos() []ConvPass { return append([]ConvPass(nil), lo.convs...) }

// ScratchBytes is the memory of the Winograd scratch buffers U, V and M,
// shared by every Winograd pass of the plan (0 when none can run).
func (lo *Layout) ScratchBytes() uint64 { return lo.BytesByKind()[KindScratch] }

// ConvNote is the one line to log about the algorithm choice, or "" when
// there is nothing to say: under conv_algo winograd the layers that do not
// admit it, and under auto or winograd the passes whose Winograd buffers
// exceed the device's binding limit, each with the reason; they use
// implicit GEMM.
func (lo *Layout) ConvNote() string { return convNote(lo.cfg.ConvAlgo, lo.convs) }

func convNote(algo string, convs []ConvPass) string {
	var parts []string
	seen := map[string]bool{}
	for _, c := range convs {
		if !c.refused || (algo != ConvWinograd && !c.bound) {
			continue
		}
		what := c.Name
		if c.bound {
			what += " " + c.Pass
		}
		if !seen[what] {
			seen[what] = true
			parts = append(parts, fmt.Sprintf("%s (%s)", what, strings.TrimPrefix(c.Reason, noWinograd)))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("conv_algo %s: implicit GEMM for %s", algo, strings.Join(parts, ", "))
}

// noWinograd starts the Reason of a pass that cannot run as Winograd.
const noWinograd = "no Winograd: "

// ruleOverThree starts the rule's Reason for a kernel over 3x3 run as 3x3
// blocks (4x4, 6x6, 4x6: 16 multiplies per block against 9 per tap of a
// 3x3 block) under conv_algo auto: such blocks beat implicit GEMM only
// where tuned Gemm tiles run them, so the rule keeps implicit GEMM and,
// with tuning on (Config.TunedAlgos), the tuner chooses by timing both. A
// 5x5 kernel is one F(2x2,5x5) block (9 multiplies per output against 25),
// which the rule takes as it takes 3x3.
const ruleOverThree = "rule: implicit GEMM for kernels over 3x3 run as 3x3 blocks"

// overThree reports whether the Winograd dispatches ds run a kernel as
// more than one 3x3 block.
func overThree(ds []backend.Params) bool {
	for _, q := range ds {
		if in, ok := q.(backend.WinogradInput); ok {
			return in.Blocks() > 1
		}
	}
	return false
}

// ruleWinograd is the rule's Reason for a pass it runs as Winograd ds: a
// 3x3 kernel, or a 5x5 one as F(2x2,5x5).
func ruleWinograd(ds []backend.Params) string {
	for _, q := range ds {
		if in, ok := q.(backend.WinogradInput); ok && in.K5 != 0 {
			return "rule: Winograd F(2x2,5x5) for 5x5 stride 1"
		}
	}
	return "rule: Winograd for 3x3 stride 1"
}

// planConvs chooses the algorithm of every convolution pass of lo (needGrad
// tells which layers' inputs need a gradient) by cfg.ConvAlgo and the
// device dev (nil: any device but the reference, without limits), and
// returns the sizes of the shared scratch U, V, M (zero when no pass can
// run as Winograd).
func (lo *Layout) planConvs(ls []layers.Layer, needGrad []bool, dev *backend.Info) [3]int {
	var scratch [3]int
	algo := lo.cfg.ConvAlgo
	for i, l := range ls {
		w, ok := l.(layers.Winograder)
		if !ok {
			continue
		}
		for _, pass := range []string{PassForward, PassBackwardData, PassBackwardFilter} {
			if pass == PassBackwardData && !needGrad[i] {
				continue
			}
			c := ConvPass{Layer: i, Name: l.Name(), Pass: pass, Algo: ConvGemm}
			ds, sizes, err := winogradPass(w, lo.Shapes[i], pass)
			blocksByRule := algo == ConvAuto && overThree(ds)
			switch {
			case algo == ConvGemm:
				c.Reason = "conv_algo gemm"
			case err != nil:
				c.Reason, c.refused = noWinograd+err.Error(), true
			case dev != nil && dev.Type == backend.Reference && algo == ConvAuto:
				c.Reason = "rule: implicit GEMM on the reference device"
			case blocksByRule && !lo.cfg.TunedAlgos:
				c.Reason = ruleOverThree + " (tune off)"
			default:
				if why := overBinding(ds, dev); why != "" {
					c.Reason, c.refused, c.bound = noWinograd+why, true, true
					break
				}
				c.Algo, c.Winograd, c.Reason = ConvWinograd, true, "conv_algo winograd"
				switch {
				case blocksByRule:
					c.Algo, c.Reason = ConvGemm, ruleOverThree+"; the tuner times both"
				case algo == ConvAuto:
					c.Reason = ruleWinograd(ds)
				}
				for j := range scratch {
					scratch[j] = max(scratch[j], sizes[j])
				}
				if algo == ConvAuto && lo.cfg.TunedAlgos {
					if ds4, sizes4, err := winograd4Pass(w, lo.Shapes[i], pass); err == nil && overBinding(ds4, dev) == "" {
						c.Winograd4 = true
						for j := range scratch {
							scratch[j] = max(scratch[j], sizes4[j])
						}
					}
				}
			}
			lo.convs = append(lo.convs, c)
		}
	}
	return scratch
}

// winogradPass plans pass of layer w at input shape in as Winograd: its
// dispatches and the sizes it needs of the shared scratch U, V, M (the
// filter gradient keeps its products M in U's place, its transformed dy E
// in M's), or why the layer does not admit it.
func winogradPass(w layers.Winograder, in layers.Shape, pass string) ([]backend.Params, [3]int, error) {
	if pass == PassBackwardFilter {
		pl, err := w.WinogradGradPlan(in)
		return pl.Dispatches(), [3]int{pl.MLen, pl.VLen, pl.ELen}, err
	}
	pl, err := w.WinogradPlan(in, pass == PassBackwardData)
	return pl.Dispatches(), [3]int{pl.ULen, pl.VLen, pl.MLen}, err
}

// winograd4Pass is winogradPass for F(4x4,3x3) (F(3x3,4x4) for the
// filter gradient).
func winograd4Pass(w layers.Winograder, in layers.Shape, pass string) ([]backend.Params, [3]int, error) {
	if pass == PassBackwardFilter {
		pl, err := w.WinogradGradPlan4(in)
		return pl.Dispatches(), [3]int{pl.MLen, pl.VLen, pl.ELen}, err
	}
	pl, err := w.WinogradPlan4(in, pass == PassBackwardData)
	return pl.Dispatches(), [3]int{pl.ULen, pl.VLen, pl.MLen}, err
}

// overBinding names the first buffer of ds larger than what one dispatch
// of dev may address (MaxBinding, else MaxAlloc), or is "".
func overBinding(ds []backend.Params, dev *backend.Info) string {
	if dev == nil {
		return ""
	}
	limit := dev.MaxAlloc
	if dev.MaxBinding > 0 && (limit == 0 || dev.MaxBinding < limit) {
		limit = dev.MaxBinding
	}
	if limit == 0 {
		return ""
	}
	for _, q := range ds {
		for i, n := range q.BufferSizes() {
			if b := 4 * uint64(n); b > limit {
				return fmt.Sprintf("its %s buffer %s of %s exceeds the %s one dispatch of %s may address; a smaller batch_size fits",
					q.Kernel(), q.Buffers()[i].Name, MiB(b), MiB(limit), dev.Name)
			}
		}
	}
	return ""
}

// SetConvAlgo makes pass k of ConvAlgos run with algo (ConvGemm, or
// ConvWinograd or ConvWinograd4 where the pass admits it), for the reason
// given (the tuner's). The plan's later steps follow it.
func (p *Plan) SetConvAlgo(k int, algo, reason string) error {
	if k < 0 || k >= len(p.convs) {
		return fmt.Errorf("graph: no convolution pass %d (the plan has %d)", k, len(p.convs))
	}
	c := &p.convs[k]
	if err := c.admits(algo); err != nil {
		return err
	}
	c.Algo, c.Reason = algo, reason
	return nil
}

// admits says why c cannot run with algo in its plan, or is nil.
func (c ConvPass) admits(algo string) error {
	switch {
	case algo == ConvWinograd && !c.Winograd:
		return fmt.Errorf("graph: %s %s cannot run as Winograd in this plan (%s)", c.Name, c.Pass, c.Reason)
	case algo == ConvWinograd4 && !c.Winograd4:
		return fmt.Errorf("graph: %s %s cannot run as Winograd F(4x4,3x3) in this plan (a pass of a 3x3 layer under conv_algo auto with tuning on; %s)", c.Name, c.Pass, c.Reason)
	case algo != ConvWinograd && algo != ConvWinograd4 && algo != ConvGemm:
		return fmt.Errorf("graph: %s %s: unknown algorithm %q (want %s, %s or %s)", c.Name, c.Pass, algo, ConvGemm, ConvWinograd, ConvWinograd4)
	}
	return nil
}

// ConvAlgos lists the algorithm of every convolution pass the plan runs
// now (Layout.ConvAlgos, as SetConvAlgo changed them).
func (p *Plan) ConvAlgos() []ConvPass { return append([]ConvPass(nil), p.convs...) }

// ConvDispatches are the dispatches of pass k of ConvAlgos over a full
// batch, as algorithm algo would run them, over the plan's buffers: what
// the tuner times. Running them writes only the pass's output (an
// activation or a gradient) and the scratch.
func (p *Plan) ConvDispatches(k int, algo string) ([]layers.Dispatch, error) {
	if err := p.usable(); err != nil {
		return nil, err
	}
	if k < 0 || k >= len(p.convs) {
		return nil, fmt.Errorf("graph: no convolution pass %d (the plan has %d)", k, len(p.convs))
	}
	c := p.convs[k]
	if err := c.admits(algo); err != nil {
		return nil, err
	}
	ctx := p.ctx(c.Layer, p.lo.Batch, true, 1)
	w := p.layers[c.Layer].(layers.Winograder)
	if c.Pass == PassBackwardFilter {
		ctx.WinogradGrad, ctx.WinogradGrad4 = algo == ConvWinograd || algo == ConvWinograd4, algo == ConvWinograd4
		return w.FilterGrad(ctx), nil
	}
	ctx.Winograd, ctx.Winograd4 = algo == ConvWinograd || algo == ConvWinograd4, algo == ConvWinograd4
	return w.Product(ctx, c.Pass == PassBackwardData), nil
}

// algoOf is the algorithm layer i's pass runs with now (ConvGemm for a
// layer without convolution passes).
func (p *Plan) algoOf(i int, pass string) string {
	for _, c := range p.convs {
		if c.Layer == i && c.Pass == pass {
			return c.Algo
		}
	}
	return ConvGemm
}

// winograd reports whether layer i's pass runs as Winograd now (either
// tile size).
func (p *Plan) winograd(i int, pass string) bool {
	a := p.algoOf(i, pass)
	return a == ConvWinograd || a == ConvWinograd4
}

// winograd4 reports whether layer i's pass runs as F(4x4,3x3) now.
func (p *Plan) winograd4(i int, pass string) bool { return p.algoOf(i, pass) == ConvWinograd4 }

// ConvAlgoLine lists cs (from ConvAlgos) layer by layer as "name
// forward[/backward-data][/backward-filter]", e.g. "conv.0 gemm/gemm, conv.6
// winograd/winograd/winograd";
// "" when cs is empty.
func ConvAlgoLine(cs []ConvPass) string {
	var parts []string
	for i, c := range cs {
		if i > 0 && cs[i-1].Layer == c.Layer {
			parts[len(parts)-1] += "/" + c.Algo
			continue
		}
		parts = append(parts, c.Name+" "+c.Algo)
	}
	return strings.Join(parts, ", ")
}
