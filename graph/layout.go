// Package graph turns a model (layers.Sequential) and an input shape into a
// static training plan on one backend.Device: every buffer is allocated once,
// a training step is a fixed list of dispatches (the input stage, forward,
// loss, backward, optimizer updates) followed by a single Read of the loss's
// statistics. Every buffer has a unique name.
package graph

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/data"
	"github.com/crossgrad/crossgrad/layers"
)

// Config holds the plan's options. Zero fields take the defaults noted.
type Config struct {
	Input     Input     // input stage (default: ResizeInput{SrcH, SrcW})
	Loss      Loss      // loss (default: SoftmaxCrossEntropy{Classes})
	Optimizer Optimizer // optimizer (default: Adam{LR, Beta1, Beta2, Eps})

	SrcH, SrcW int     // stored size of the default input stage's uint8 images (default data.ImageSide square)
	Classes    int     // classes of the default loss (default: the model's output width)
	LR         float64 // default Adam's learning rate (default 1e-3)
	Beta1      float64 // default Adam's beta1 (default 0.9)
	Beta2      float64 // default Adam's beta2 (default 0.999)
	Eps        float64 // default Adam's eps (default 1e-8)
	Seed       uint64  // parameter initialisation seed (see layers.InitParams)

	// ConvAlgo is the convolution algorithm of the layers that admit more
	// than one: "" or ConvAuto, ConvGemm or ConvWinograd (ParseConvAlgo).
	ConvAlgo string
	// TunedAlgos says that the tuner will choose the algorithm of the
	// convolution passes that admit both (tune: cached or auto): under
	// ConvAuto the passes of kernels over 3x3 are then planned with
	// Winograd's scratch, so that the tuner can switch them, though the
	// rule runs them as implicit GEMM (see ConvAuto).
	TunedAlgos bool
	// NoFuse turns the fusion pass off (config key fuse: false): every ReLU
	// after a Conv2d or Linear runs as its own passes (see FusesRelu, MasksRelu).
	NoFuse bool
}

func (c Config) withDefaults() Config {
	if c.SrcH == 0 {
		c.SrcH = data.ImageSide
	}
	if c.SrcW == 0 {
		c.SrcW = data.ImageSide
	}
	if c.LR == 0 {
		c.LR = 1e-3
	}
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.999
	}
	if c.Eps == 0 {
		c.Eps = 1e-8
	}
	if c.ConvAlgo == "" {
		c.ConvAlgo = ConvAuto
	}
	if c.Input == nil {
		c.Input = ResizeInput{SrcH: c.SrcH, SrcW: c.SrcW}
	}
	if c.Optimizer == nil {
		c.Optimizer = Adam{LR: c.LR, Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.Eps}
	}
	return c
}

// Kind classifies a planned buffer.
type Kind int

// Buffer kinds.
const (
	KindInput      Kind = iota // uploaded images (packed uint8)
	KindLabels                 // targets (labels as floats)
	KindStats                  // step statistics (loss, correct)
	KindActivation             // forward activations (resized input included)
	KindAux                    // per-layer extras (max-pool indices)
	KindGrad                   // activation gradients (shared slots)
	KindParam                  // parameters
	KindParamGrad              // parameter gradients
	KindAdamM                  // Adam first moments
	KindAdamV                  // Adam second moments
	KindState                  // non-trained layer state (e.g. running statistics)
	KindScratch                // Winograd scratch (U, V, M), shared by every Winograd pass
)

// String is the kind's short name, e.g. "activation".
func (k Kind) String() string {
	return [...]string{"input", "labels", "stats", "activation", "aux", "grad", "param", "param-grad", "adam-m", "adam-v", "state", "scratch"}[k]
}

// fixed reports whether buffers of kind k keep their size whatever the batch.
func (k Kind) fixed() bool { return k >= KindParam && k != KindScratch }

// BufferSpec is one planned device buffer.
type BufferSpec struct {
	Name  string // unique in the plan, e.g. "act.conv.3", "grad.ping", "conv.0.weight.adam_m"
	Kind  Kind
	Elems int // float32 elements
}

// Bytes is the buffer's size in bytes.
func (b BufferSpec) Bytes() uint64 { return 4 * uint64(b.Elems) }

// Layout is a plan without a device: the shapes and every buffer a training
// plan of batch size Batch allocates, and which tensor lives in which buffer.
// It is pure data; NewLayout allocates nothing on any device.
type Layout struct {
	Batch   int
	Input   layers.Shape   // model input [Batch, C, H, W]
	Shapes  []layers.Shape // activation shapes at Batch: Shapes[0] = Input, Shapes[i+1] = output of layer i
	Buffers []BufferSpec
	Naive   uint64 // bytes the plan would need with one buffer per activation and per gradient

	cfg      Config
	model    *layers.Sequential
	params   []layers.NamedParam
	states   []layers.NamedState
	inBufs   []int   // the input stage's buffers
	lossBufs []int   // the loss's buffers (targets first)
	act      []int   // buffer of activation i (L+1)
	grad     []int   // buffer of the gradient of activation i, -1 when not needed
	aux      [][]int // buffers of AuxSizes per layer
	param    []int   // per model parameter (Params() order)
	pgrad    []int
	slots    [][]int // per parameter, its optimizer slots in Slots() order
	state    []int   // per model state tensor (State() order)
	convs    []ConvPass
	scratch  []int         // the Winograd scratch U, V, M (none when no pass runs Winograd)
	dev      *backend.Info // the device planned for (nil: any)
	shapes   [][]int       // tensor shape of each buffer
	byName   map[string]int
}

// NewLayout plans model for input shape in (batch first; [B, 1, H, W] for
// the default input stage) for any device but the reference, without its
// limits (NewLayoutFor plans for one). The error names the layer when a
// shape is invalid.
func NewLayout(model *layers.Sequential, in layers.Shape, cfg Config) (*Layout, error) {
	return newLayout(model, in, cfg, nil)
}

// NewLayoutFor is NewLayout for the device info describes: the convolution
// algorithms follow its type and binding limit (ConvAlgos).
func NewLayoutFor(model *layers.Sequential, in layers.Shape, cfg Config, info backend.Info) (*Layout, error) {
	return newLayout(model, in, cfg, &info)
}

func newLayout(model *layers.Sequential, in layers.Shape, cfg Config, dev *backend.Info) (*Layout, error) {
	cfg = cfg.withDefaults()
	algo, err := ParseConvAlgo(cfg.ConvAlgo)
	if err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	cfg.ConvAlgo = algo
	inSpecs, err := cfg.Input.Buffers(in)
	if err != nil {
		return nil, err
	}
	shapes, err := model.Shapes(in)
	if err != nil {
		return nil, err
	}
	ls := model.Layers()
	L := len(ls)
	out := shapes[L]
	if cfg.Classes == 0 && len(out) == 2 {
		cfg.Classes = out[1]
	}
	if cfg.Loss == nil {
		cfg.Loss = SoftmaxCrossEntropy{Classes: cfg.Classes}
	}
	lossSpecs, err := cfg.Loss.Buffers(out)
	if err != nil {
		return nil, err
	}
	if len(inSpecs) == 0 || len(lossSpecs) == 0 {
		return nil, fmt.Errorf("graph: the input stage (%s) and the loss (%s) must each declare a buffer to upload into", cfg.Input.Type(), cfg.Loss.Type())
	}
	lo := &Layout{Batch: in[0], Input: shapes[0], Shapes: shapes, cfg: cfg, model: model,
		params: model.Params(), states: model.State(), byName: map[string]int{}, dev: dev}
	if len(lo.params) == 0 {
		return nil, fmt.Errorf("graph: the model has no parameters to train")
	}
	var dup error
	add := func(name string, k Kind, shape []int) int {
		if _, ok := lo.byName[name]; ok && dup == nil {
			dup = fmt.Errorf("graph: two buffers named %q; rename the layer or its parameter or state", name)
		}
		lo.byName[name] = len(lo.Buffers)
		lo.Buffers = append(lo.Buffers, BufferSpec{Name: name, Kind: k, Elems: layers.Shape(shape).Elems()})
		lo.shapes = append(lo.shapes, append([]int(nil), shape...))
		return len(lo.Buffers) - 1
	}
	for _, b := range inSpecs {
		lo.inBufs = append(lo.inBufs, add(b.Name, b.Kind, []int{b.Elems}))
	}
	for _, b := range lossSpecs {
		lo.lossBufs = append(lo.lossBufs, add(b.Name, b.Kind, []int{b.Elems}))
	}

	// Activations: aliases and safe in-place layers share their input buffer.
	flags := make([]layers.Flags, L)
	for i, l := range ls {
		flags[i] = l.Flags()
	}
	lo.act = make([]int, L+1)
	lo.act[0] = add("act.input", KindActivation, shapes[0])
	naive := shapes[0].Elems()
	for i, l := range ls {
		naive += shapes[i+1].Elems()
		f := flags[i]
		if f.Alias || (f.InPlace && !f.NeedsInput && !neededLater(lo.act, flags, i)) {
			lo.act[i+1] = lo.act[i]
			continue
		}
		lo.act[i+1] = add("act."+l.Name(), KindActivation, shapes[i+1])
	}
	lo.aux = make([][]int, L)
	for i, l := range ls {
		for j, n := range l.AuxSizes(shapes[i]) {
			lo.aux[i] = append(lo.aux[i], add(fmt.Sprintf("%s.aux%d", l.Name(), j), KindAux, []int{n}))
		}
	}

	// Gradients: activation k needs one when a layer before it has
	// parameters. They alternate between two slots (ping-pong); layers whose
	// backward may write dx over dy, and aliases, keep the slot.
	needGrad := make([]bool, L+1)
	for k, seen := 0, false; k <= L; k++ {
		needGrad[k] = seen
		if k < L && len(ls[k].Params()) > 0 {
			seen = true
		}
	}
	slot := make([]int, L+1)
	var slotSize [2]int
	slotSize[0] = shapes[L].Elems()
	cur := 0
	lo.grad = make([]int, L+1)
	for k := L; k >= 0; k-- {
		if k < L {
			if !needGrad[k] {
				slot[k] = -1
				continue
			}
			if f := flags[k]; !f.Alias && !f.GradInPlace {
				cur = 1 - cur
			}
		}
		slot[k] = cur
		slotSize[cur] = max(slotSize[cur], shapes[k].Elems())
		naive += shapes[k].Elems()
	}
	var slotBuf [2]int
	for s, name := range []string{"grad.ping", "grad.pong"} {
		slotBuf[s] = -1
		if slotSize[s] > 0 {
			slotBuf[s] = add(name, KindGrad, []int{slotSize[s]})
		}
	}
	for k := range lo.grad {
		lo.grad[k] = -1
		if slot[k] >= 0 {
			lo.grad[k] = slotBuf[slot[k]]
		}
	}
	if sc := lo.planConvs(ls, needGrad, dev); sc[0] > 0 {
		for j, name := range []string{"winograd.U", "winograd.V", "winograd.M"} {
			lo.scratch = append(lo.scratch, add(name, KindScratch, []int{sc[j]}))
		}
	}

	for _, p := range lo.params {
		lo.param = append(lo.param, add(p.Name, KindParam, p.Shape))
		lo.pgrad = append(lo.pgrad, add(p.Name+".grad", KindParamGrad, p.Shape))
		var sl []int
		for _, s := range cfg.Optimizer.Slots() {
			sl = append(sl, add(p.Name+"."+s.Suffix, s.Kind, p.Shape))
		}
		lo.slots = append(lo.slots, sl)
	}
	for _, s := range lo.states {
		lo.state = append(lo.state, add(s.Name, KindState, s.Shape))
	}
	if dup != nil {
		return nil, dup
	}
	lo.Naive = 4 * uint64(naive)
	for _, b := range lo.Buffers {
		if b.Kind != KindActivation && b.Kind != KindGrad {
			lo.Naive += b.Bytes()
		}
	}
	return lo, nil
}

// Lookup returns the planned buffer named name.
func (lo *Layout) Lookup(name string) (BufferSpec, bool) {
	i, ok := lo.byName[name]
	if !ok {
		return BufferSpec{}, false
	}
	return lo.Buffers[i], true
}

// neededLater reports whether a layer before i reads, in its backward, the
// buffer layer i would overwrite in place.
func neededLater(act []int, flags []layers.Flags, i int) bool {
	id := act[i]
	for j := range i {
		if (flags[j].NeedsInput && act[j] == id) || (flags[j].NeedsOutput && act[j+1] == id) {
			return true
		}
	}
	return false
}

// Bytes is the device memory of the plan: the sum of all buffers.
func (lo *Layout) Bytes() uint64 {
	var t uint64
	for _, b := range lo.Buffers {
		t += b.Bytes()
	}
	return t
}

// BytesByKind sums the buffers of each kind.
func (lo *Layout) BytesByKind() map[Kind]uint64 {
	m := map[Kind]uint64{}
	for _, b := range lo.Buffers {
		m[b.Kind] += b.Bytes()
	}
	return m
}

// Largest returns the n largest buffers, largest first.
func (lo *Layout) Largest(n int) []BufferSpec {
	bs := append([]BufferSpec(nil), lo.Buffers...)
	sort.SliceStable(bs, func(i, j int) bool { return bs[i].Elems > bs[j].Elems })
	return bs[:min(n, len(bs))]
}

// Config returns the configuration with defaults filled in.
func (lo *Layout) Config() Config { return lo.cfg }

// Fits reports, when the plan does not fit a device described by info, an
// error naming the largest buffers and the largest batch size that would
// fit. Zero GlobalMemory or MaxAlloc mean unknown and are not checked.
func (lo *Layout) Fits(info backend.Info) error {
	if lo.fits(info) {
		return nil
	}
	var big []string
	for _, b := range lo.Largest(3) {
		big = append(big, fmt.Sprintf("%s %s", b.Name, MiB(b.Bytes())))
	}
	var biggest uint64
	if len(lo.Buffers) > 0 {
		biggest = lo.Largest(1)[0].Bytes()
	}
	msg := fmt.Sprintf("graph: plan for batch %d needs %s in %d buffers (largest single buffer %s), device %s has %s (largest allocation %s); largest buffers: %v",
		lo.Batch, MiB(lo.Bytes()), len(lo.Buffers), MiB(biggest), info.Name, MiB(info.GlobalMemory), MiB(info.MaxAlloc), big)
	if b := lo.FitBatch(info); b > 0 {
		return fmt.Errorf("%s; batch size %d would fit", msg, b)
	}
	return fmt.Errorf("%s; no batch size fits (parameters and Adam state alone need %s)", msg, MiB(lo.fixedBytes()))
}

func (lo *Layout) fits(info backend.Info) bool {
	if info.GlobalMemory > 0 && lo.Bytes() > info.GlobalMemory {
		return false
	}
	for _, b := range lo.Buffers {
		if b.Elems > backend.MaxElements || (info.MaxAlloc > 0 && b.Bytes() > info.MaxAlloc) {
			return false
		}
	}
	return true
}

func (lo *Layout) fixedBytes() uint64 {
	var t uint64
	for _, b := range lo.Buffers {
		if b.Kind.fixed() {
			t += b.Bytes()
		}
	}
	return t
}

// FitBatch is the largest batch size up to Batch whose plan fits info, or 0
// when none does.
func (lo *Layout) FitBatch(info backend.Info) int {
	ok := func(b int) bool {
		l, err := newLayout(lo.model, lo.Input.WithBatch(b), lo.cfg, lo.dev)
		return err == nil && l.fits(info)
	}
	lo0, hi := 0, lo.Batch // ok(lo0) (vacuously for 0), find the largest ok
	if ok(hi) {
		return hi
	}
	for hi-lo0 > 1 {
		mid := (lo0 + hi) / 2
		if ok(mid) {
			lo0 = mid
		} else {
			hi = mid
		}
	}
	return lo0
}

// MiB formats a byte count in MiB with one decimal.
func MiB(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// Report writes the plan's memory: one line per buffer (name, kind, float32
// elements, MiB), then the total per kind (of the kinds the plan has), the
// total and the naive total.
func (lo *Layout) Report(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "buffer\tkind\telements\tsize\t\n")
	for _, b := range lo.Buffers {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t\n", b.Name, b.Kind, b.Elems, MiB(b.Bytes()))
	}
	by := lo.BytesByKind()
	for k := KindInput; k <= KindScratch; k++ {
		if _, ok := by[k]; ok {
			fmt.Fprintf(tw, "total %s\t\t\t%s\t\n", k, MiB(by[k]))
		}
	}
	fmt.Fprintf(tw, "total (batch %d, %d buffers)\t\t\t%s\t\n", lo.Batch, len(lo.Buffers), MiB(lo.Bytes()))
	fmt.Fprintf(tw, "without buffer reuse\t\t\t%s\t\n", MiB(lo.Naive))
	return tw.Flush()
}
