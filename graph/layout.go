// Package graph turns a model (layers.Sequential) and an input shape into a
// static training plan on one backend.Device: every buffer is allocated once,
// a training step is a fixed list of dispatches (resize, forward, loss,
// backward, Adam) followed by a single Read of two statistics.
package graph

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/layers"
)

// Config holds the plan's options. Zero fields take the defaults noted.
type Config struct {
	SrcH, SrcW int     // size of the uint8 source images (default 28x28)
	Classes    int     // number of classes (default: the model's output width)
	LR         float64 // Adam learning rate (default 1e-3)
	Beta1      float64 // Adam beta1 (default 0.9)
	Beta2      float64 // Adam beta2 (default 0.999)
	Eps        float64 // Adam eps (default 1e-8)
	Seed       uint64  // parameter initialisation seed (see layers.InitParams)
}

func (c Config) withDefaults() Config {
	if c.SrcH == 0 {
		c.SrcH = 28
	}
	if c.SrcW == 0 {
		c.SrcW = 28
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
	return c
}

// Kind classifies a planned buffer.
type Kind int

// Buffer kinds.
const (
	KindInput      Kind = iota // packed uint8 source images
	KindLabels                 // labels as floats
	KindStats                  // (loss, correct)
	KindActivation             // forward activations (resized input included)
	KindAux                    // per-layer extras (max-pool indices)
	KindGrad                   // activation gradients (shared slots)
	KindParam                  // parameters
	KindParamGrad              // parameter gradients
	KindAdamM                  // Adam first moments
	KindAdamV                  // Adam second moments
)

// String is the kind's short name, e.g. "activation".
func (k Kind) String() string {
	return [...]string{"input", "labels", "stats", "activation", "aux", "grad", "param", "param-grad", "adam-m", "adam-v"}[k]
}

// BufferSpec is one planned device buffer.
type BufferSpec struct {
	Name  string // e.g. "act.conv.3", "grad.ping", "conv.0.weight.adam_m"
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
	Input   layers.Shape   // model input [Batch, 1, H, W]
	Shapes  []layers.Shape // activation shapes at Batch: Shapes[0] = Input, Shapes[i+1] = output of layer i
	Buffers []BufferSpec
	Naive   uint64 // bytes the plan would need with one buffer per activation and per gradient

	cfg    Config
	model  *layers.Sequential
	loss   layers.SoftmaxCrossEntropy
	input  int     // packed images
	labels int     // labels
	stats  int     // stats[2]
	act    []int   // buffer of activation i (L+1)
	grad   []int   // buffer of the gradient of activation i, -1 when not needed
	aux    [][]int // buffers of AuxSizes per layer
	param  []int   // per model parameter (Params() order)
	pgrad  []int
	adamM  []int
	adamV  []int
}

// NewLayout plans model for input shape in = [B, 1, H, W]. The error names
// the layer when a shape is invalid.
func NewLayout(model *layers.Sequential, in layers.Shape, cfg Config) (*Layout, error) {
	cfg = cfg.withDefaults()
	if len(in) != 4 || in[1] != 1 {
		return nil, fmt.Errorf("graph: input shape %v is not [B, 1, H, W] (the plan resizes single-channel images)", []int(in))
	}
	if cfg.SrcH <= 0 || cfg.SrcW <= 0 {
		return nil, fmt.Errorf("graph: source image size %dx%d must be positive", cfg.SrcH, cfg.SrcW)
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
	lo := &Layout{Batch: in[0], Input: shapes[0], Shapes: shapes, cfg: cfg, model: model,
		loss: layers.SoftmaxCrossEntropy{Classes: cfg.Classes}}
	if err := lo.loss.Check(out); err != nil {
		return nil, err
	}
	params := model.Params()
	if len(params) == 0 {
		return nil, fmt.Errorf("graph: the model has no parameters to train")
	}
	add := func(name string, k Kind, n int) int {
		lo.Buffers = append(lo.Buffers, BufferSpec{Name: name, Kind: k, Elems: n})
		return len(lo.Buffers) - 1
	}
	B := lo.Batch
	lo.input = add("input.packed", KindInput, (B*cfg.SrcH*cfg.SrcW+3)/4)
	lo.labels = add("input.labels", KindLabels, B)
	lo.stats = add("stats", KindStats, 2)

	// Activations: aliases and safe in-place layers share their input buffer.
	flags := make([]layers.Flags, L)
	for i, l := range ls {
		flags[i] = l.Flags()
	}
	lo.act = make([]int, L+1)
	lo.act[0] = add("act.input", KindActivation, shapes[0].Elems())
	naive := shapes[0].Elems()
	for i, l := range ls {
		naive += shapes[i+1].Elems()
		f := flags[i]
		if f.Alias || (f.InPlace && !f.NeedsInput && !neededLater(lo.act, flags, i)) {
			lo.act[i+1] = lo.act[i]
			continue
		}
		lo.act[i+1] = add("act."+l.Name(), KindActivation, shapes[i+1].Elems())
	}
	lo.aux = make([][]int, L)
	for i, l := range ls {
		for j, n := range l.AuxSizes(shapes[i]) {
			lo.aux[i] = append(lo.aux[i], add(fmt.Sprintf("%s.aux%d", l.Name(), j), KindAux, n))
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
			slotBuf[s] = add(name, KindGrad, slotSize[s])
		}
	}
	for k := range lo.grad {
		lo.grad[k] = -1
		if slot[k] >= 0 {
			lo.grad[k] = slotBuf[slot[k]]
		}
	}

	for _, p := range params {
		n := p.Elems()
		lo.param = append(lo.param, add(p.Name, KindParam, n))
		lo.pgrad = append(lo.pgrad, add(p.Name+".grad", KindParamGrad, n))
		lo.adamM = append(lo.adamM, add(p.Name+".adam_m", KindAdamM, n))
		lo.adamV = append(lo.adamV, add(p.Name+".adam_v", KindAdamV, n))
	}
	lo.Naive = 4 * uint64(naive)
	for _, b := range lo.Buffers {
		if b.Kind != KindActivation && b.Kind != KindGrad {
			lo.Naive += b.Bytes()
		}
	}
	return lo, nil
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
		if b.Kind >= KindParam {
			t += b.Bytes()
		}
	}
	return t
}

// FitBatch is the largest batch size up to Batch whose plan fits info, or 0
// when none does.
func (lo *Layout) FitBatch(info backend.Info) int {
	ok := func(b int) bool {
		l, err := NewLayout(lo.model, lo.Input.WithBatch(b), lo.cfg)
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
// elements, MiB), then the total, the total per kind and the naive total.
func (lo *Layout) Report(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "buffer\tkind\telements\tsize\t\n")
	for _, b := range lo.Buffers {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t\n", b.Name, b.Kind, b.Elems, MiB(b.Bytes()))
	}
	by := lo.BytesByKind()
	for k := KindInput; k <= KindAdamV; k++ {
		fmt.Fprintf(tw, "total %s\t\t\t%s\t\n", k, MiB(by[k]))
	}
	fmt.Fprintf(tw, "total (batch %d, %d buffers)\t\t\t%s\t\n", lo.Batch, len(lo.Buffers), MiB(lo.Bytes()))
	fmt.Fprintf(tw, "without buffer reuse\t\t\t%s\t\n", MiB(lo.Naive))
	return tw.Flush()
}
