package graph

import (
	"errors"
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/layers"
)

// Plan is a model planned and allocated on one device: it owns every buffer
// of its Layout until Close. A Plan is not safe for concurrent use.
type Plan struct {
	dev    backend.Device
	lo     *Layout
	layers []layers.Layer
	params []layers.NamedParam
	bufs   []backend.Buffer
	step   int // last completed training step (Adam t)
	closed bool
}

// Stats are the statistics of one step over its n images.
type Stats struct {
	Loss    float32 // mean cross-entropy over the n images
	Correct int     // images whose first maximal logit is the label
	N       int     // images in the step
}

// New plans model for input shape in = [B, 1, H, W] on dev, checks that the
// plan fits the device's memory, allocates every buffer, initialises the
// parameters from cfg.Seed (see layers.InitParams) and zeroes the Adam
// state. On error nothing stays allocated.
func New(dev backend.Device, model *layers.Sequential, in layers.Shape, cfg Config) (*Plan, error) {
	lo, err := NewLayout(model, in, cfg)
	if err != nil {
		return nil, err
	}
	if err := lo.Fits(dev.Info()); err != nil {
		return nil, err
	}
	p := &Plan{dev: dev, lo: lo, layers: model.Layers(), params: model.Params()}
	var allocated uint64
	for i, b := range lo.Buffers {
		buf, err := dev.Alloc(b.Elems)
		if err != nil {
			p.Close()
			return nil, &AllocError{Device: dev.Info().Name, Buffer: b, Index: i, Allocated: allocated, Layout: lo, Err: err}
		}
		allocated += b.Bytes()
		p.bufs = append(p.bufs, buf)
	}
	if err := p.init(model.InitParams(lo.cfg.Seed)); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Plan) init(values [][]float32) error {
	for i, v := range values {
		if err := p.dev.Write(p.bufs[p.lo.param[i]], 0, v); err != nil {
			return fmt.Errorf("graph: writing %s: %w", p.params[i].Name, err)
		}
	}
	for i := range p.params {
		for _, b := range []int{p.lo.adamM[i], p.lo.adamV[i]} {
			if err := p.fill(b, 0); err != nil {
				return err
			}
		}
	}
	if err := p.fill(p.lo.stats, 0); err != nil {
		return err
	}
	return p.dev.Sync()
}

func (p *Plan) fill(buf int, v float32) error {
	b := p.bufs[buf]
	if err := p.dev.Dispatch(backend.Fill{N: uint32(b.Len()), Value: v}, b); err != nil {
		return fmt.Errorf("graph: clearing %s: %w", p.lo.Buffers[buf].Name, err)
	}
	return nil
}

// Layout is the plan's buffer layout (shapes, buffers, memory).
func (p *Plan) Layout() *Layout { return p.lo }

// Device is the device the plan runs on.
func (p *Plan) Device() backend.Device { return p.dev }

// Batch is the planned (largest) batch size B.
func (p *Plan) Batch() int { return p.lo.Batch }

// Step is the last completed training step (0 before the first).
func (p *Plan) Step() int { return p.step }

// Input is the plan-owned buffer of packed uint8 source images: image i's
// SrcH*SrcW bytes start at byte i*SrcH*SrcW (see backend.PackBytes).
func (p *Plan) Input() backend.Buffer { return p.bufs[p.lo.input] }

// Labels is the plan-owned buffer of labels, one class index per float.
func (p *Plan) Labels() backend.Buffer { return p.bufs[p.lo.labels] }

// Upload writes n = len(labels) images (n*SrcH*SrcW bytes, row-major) and
// their labels into Input and Labels: 784 bytes per 28x28 image.
func (p *Plan) Upload(images []byte, labels []int) error {
	c := p.lo.cfg
	if len(images) != len(labels)*c.SrcH*c.SrcW {
		return fmt.Errorf("graph: %d image bytes for %d images of %dx%d", len(images), len(labels), c.SrcH, c.SrcW)
	}
	lf := make([]float32, len(labels))
	for i, l := range labels {
		lf[i] = float32(l)
		if l < 0 || l >= c.Classes {
			return fmt.Errorf("graph: label %d of image %d outside [0, %d)", l, i, c.Classes)
		}
	}
	return p.UploadPacked(backend.PackBytes(images), lf)
}

// UploadPacked writes n = len(labels) images already packed by
// backend.PackBytes ((n*SrcH*SrcW+3)/4 words, as data.Batch.Images) and
// their labels (class indices as floats) into Input and Labels.
func (p *Plan) UploadPacked(images, labels []float32) error {
	if err := p.usable(); err != nil {
		return err
	}
	n, c := len(labels), p.lo.cfg
	if n < 1 || n > p.lo.Batch {
		return fmt.Errorf("graph: upload of %d images, the plan takes 1 to %d", n, p.lo.Batch)
	}
	if want := (n*c.SrcH*c.SrcW + 3) / 4; len(images) != want {
		return fmt.Errorf("graph: %d packed words for %d images of %dx%d, want %d", len(images), n, c.SrcH, c.SrcW, want)
	}
	for i, l := range labels {
		if !(l >= 0 && l < float32(c.Classes)) || l != float32(int(l)) {
			return fmt.Errorf("graph: label %v of image %d is not a class index in [0, %d)", l, i, c.Classes)
		}
	}
	if err := p.dev.Write(p.Input(), 0, images); err != nil {
		return fmt.Errorf("graph: uploading images: %w", err)
	}
	if err := p.dev.Write(p.Labels(), 0, labels); err != nil {
		return fmt.Errorf("graph: uploading labels: %w", err)
	}
	return nil
}

// TrainStep runs one training step on the first n images of Input/Labels
// (1 <= n <= Batch): resize, forward with dropout keyed by step, softmax
// cross-entropy averaged over n, backward, and one Adam update with t = step
// (1-based) of every parameter, all queued; then one Read of the two stats.
func (p *Plan) TrainStep(step, n int) (Stats, error) {
	parts, err := p.TrainStepParts(step, n)
	if err != nil {
		return Stats{}, err
	}
	for _, part := range parts {
		if err := layers.Run(p.dev, part.Dispatches); err != nil {
			return Stats{}, fmt.Errorf("graph: %s %s (%s): %w", part.Phase, part.Layer, part.Type, err)
		}
	}
	st, err := p.readStats(n)
	if err == nil {
		p.step = step
	}
	return st, err
}

// EvalStep runs the forward pass without dropout on the first n images and
// returns their loss and correct count; the logits stay readable with
// ReadLogits until the next step.
func (p *Plan) EvalStep(n int) (Stats, error) {
	if err := p.check(n); err != nil {
		return Stats{}, err
	}
	if err := p.forward(n, false, 0); err != nil {
		return Stats{}, err
	}
	return p.readStats(n)
}

// ReadLogits reads the logits [n, Classes] of the last step's first n images.
func (p *Plan) ReadLogits(n int) ([]float32, error) {
	if err := p.check(n); err != nil {
		return nil, err
	}
	out := make([]float32, n*p.lo.cfg.Classes)
	if err := p.dev.Read(p.bufs[p.lo.act[len(p.layers)]], 0, out); err != nil {
		return nil, fmt.Errorf("graph: reading logits: %w", err)
	}
	return out, nil
}

func (p *Plan) usable() error {
	if p.closed {
		return errors.New("graph: plan is closed")
	}
	return nil
}

func (p *Plan) check(n int) error {
	if err := p.usable(); err != nil {
		return err
	}
	if n < 1 || n > p.lo.Batch {
		return fmt.Errorf("graph: batch of %d images, the plan takes 1 to %d", n, p.lo.Batch)
	}
	return nil
}

func (p *Plan) ctx(i, n int, train bool, step uint32) *layers.Ctx {
	lo := p.lo
	c := &layers.Ctx{In: lo.Shapes[i].WithBatch(n), Out: lo.Shapes[i+1].WithBatch(n),
		X: p.bufs[lo.act[i]], Y: p.bufs[lo.act[i+1]], Train: train, Step: step}
	if g := lo.grad[i+1]; g >= 0 {
		c.DY = p.bufs[g]
	}
	if g := lo.grad[i]; g >= 0 {
		c.DX = p.bufs[g]
	}
	for k, np := range p.params {
		if np.Layer == i {
			c.W = append(c.W, p.bufs[lo.param[k]])
			c.G = append(c.G, p.bufs[lo.pgrad[k]])
		}
	}
	for _, a := range lo.aux[i] {
		c.Aux = append(c.Aux, p.bufs[a])
	}
	return c
}

func (p *Plan) forward(n int, train bool, step uint32) error {
	lo, c := p.lo, p.lo.cfg
	rs := backend.ResizeBilinear{N: uint32(n), InH: uint32(c.SrcH), InW: uint32(c.SrcW),
		OutH: uint32(lo.Input[2]), OutW: uint32(lo.Input[3]), Packed: 1}
	if err := p.dev.Dispatch(rs, p.Input(), p.bufs[lo.act[0]]); err != nil {
		return fmt.Errorf("graph: resizing input: %w", err)
	}
	for i, l := range p.layers {
		if err := layers.Run(p.dev, l.Forward(p.ctx(i, n, train, step))); err != nil {
			return fmt.Errorf("graph: forward %s: %w", l, err)
		}
	}
	L := len(p.layers)
	d := lo.loss.Forward(n, p.bufs[lo.act[L]], p.Labels(), p.bufs[lo.grad[L]], p.bufs[lo.stats])
	if err := layers.Run(p.dev, []layers.Dispatch{d}); err != nil {
		return fmt.Errorf("graph: loss: %w", err)
	}
	return nil
}

func (p *Plan) readStats(n int) (Stats, error) {
	var s [2]float32
	if err := p.dev.Read(p.bufs[p.lo.stats], 0, s[:]); err != nil {
		return Stats{}, fmt.Errorf("graph: reading step statistics: %w", err)
	}
	return Stats{Loss: s[0], Correct: int(s[1]), N: n}, nil
}

// Close releases every buffer of the plan (not the device). It is
// idempotent; afterwards every method returning an error fails and the
// buffers returned by accessors are released.
func (p *Plan) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	for i := len(p.bufs) - 1; i >= 0; i-- {
		p.bufs[i].Release()
	}
	return nil
}
