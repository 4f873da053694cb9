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
	step   int // last completed training step (the optimizer's t)
	convs  []ConvPass
	closed bool
}

// Stats are the statistics of one step over its n images.
type Stats struct {
	Loss    float32 // mean loss (cross-entropy) over the n images
	Correct int     // images whose first maximal logit is the label
	N       int     // images in the step
}

// New plans model for input shape in (batch first; [B, 1, H, W] for the
// default input stage), checks that the plan fits the device's memory,
// allocates every buffer, initialises the parameters from cfg.Seed (see
// layers.InitParams) and the layers' state, and zeroes the loss statistics
// and the optimizer's slots. On error nothing stays allocated.
func New(dev backend.Device, model *layers.Sequential, in layers.Shape, cfg Config) (*Plan, error) {
	lo, err := NewLayoutFor(model, in, cfg, dev.Info())
	if err != nil {
		return nil, err
	}
	if err := lo.Fits(dev.Info()); err != nil {
		return nil, err
	}
	p := &Plan{dev: dev, lo: lo, layers: model.Layers(), params: lo.params, convs: lo.ConvAlgos()}
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
	for _, sl := range p.lo.slots {
		for _, b := range sl {
			if err := p.fill(b, 0); err != nil {
				return err
			}
		}
	}
	for i, s := range p.lo.states {
		if err := p.fill(p.lo.state[i], s.Init); err != nil {
			return err
		}
	}
	for _, b := range p.lo.lossBufs[1:] {
		if err := p.fill(b, 0); err != nil {
			return err
		}
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

// Input is the plan-owned buffer the input stage uploads images into; for
// ResizeInput, packed uint8 images: image i's SrcH*SrcW bytes start at byte
// i*SrcH*SrcW (see backend.PackBytes).
func (p *Plan) Input() backend.Buffer { return p.bufs[p.lo.inBufs[0]] }

// Labels is the plan-owned buffer of the loss's targets, one class index per
// float for SoftmaxCrossEntropy.
func (p *Plan) Labels() backend.Buffer { return p.bufs[p.lo.lossBufs[0]] }

// Upload writes n = len(labels) images (n*ImageBytes bytes, row-major:
// 784 per 28x28 image) and their labels into Input and Labels.
func (p *Plan) Upload(images []byte, labels []int) error {
	in := p.lo.cfg.Input
	if len(images) != len(labels)*in.ImageBytes() {
		return fmt.Errorf("graph: %d image bytes for %d images of %s", len(images), len(labels), in)
	}
	lf := make([]float32, len(labels))
	for i, l := range labels {
		lf[i] = float32(l)
	}
	if err := p.lo.cfg.Loss.CheckTargets(lf); err != nil {
		return err
	}
	return p.UploadPacked(backend.PackBytes(images), lf)
}

// UploadPacked writes n = len(labels) images already packed by
// backend.PackBytes (Input.PackedLen(n) words, as data.Batch.Images) and
// their labels (class indices as floats) into Input and Labels.
func (p *Plan) UploadPacked(images, labels []float32) error {
	if err := p.usable(); err != nil {
		return err
	}
	n, c := len(labels), p.lo.cfg
	if n < 1 || n > p.lo.Batch {
		return fmt.Errorf("graph: upload of %d images, the plan takes 1 to %d", n, p.lo.Batch)
	}
	if want := c.Input.PackedLen(n); len(images) != want {
		return fmt.Errorf("graph: %d packed words for %d images of %s, want %d", len(images), n, c.Input, want)
	}
	if err := c.Loss.CheckTargets(labels); err != nil {
		return err
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
// (1 <= n <= Batch): the parts of TrainStepParts (input stage, forward with
// dropout keyed by step, loss averaged over n, backward, one optimizer
// update with t = step, 1-based, of every parameter), all queued; then one
// Read of the statistics.
func (p *Plan) TrainStep(step, n int) (Stats, error) {
	parts, err := p.TrainStepParts(step, n)
	if err != nil {
		return Stats{}, err
	}
	if err := p.run(parts); err != nil {
		return Stats{}, err
	}
	st, err := p.readStats(n)
	if err == nil {
		p.step = step
	}
	return st, err
}

// EvalStep runs the forward pass (EvalParts) on the first n images and
// returns their loss and correct count; the logits stay readable with
// ReadLogits until the next step.
func (p *Plan) EvalStep(n int) (Stats, error) {
	parts, err := p.EvalParts(n)
	if err != nil {
		return Stats{}, err
	}
	if err := p.run(parts); err != nil {
		return Stats{}, err
	}
	return p.readStats(n)
}

func (p *Plan) run(parts []Part) error {
	for _, part := range parts {
		if err := layers.Run(p.dev, part.Dispatches); err != nil {
			return fmt.Errorf("graph: %s %s (%s): %w", part.Phase, part.Layer, part.Type, err)
		}
	}
	return nil
}

// classes is the width of the model output (logits per image).
func (lo *Layout) classes() int { return lo.Shapes[len(lo.Shapes)-1].Elems() / lo.Batch }

// ReadLogits reads the logits [n, Classes] of the last step's first n images.
func (p *Plan) ReadLogits(n int) ([]float32, error) {
	if err := p.check(n); err != nil {
		return nil, err
	}
	out := make([]float32, n*p.lo.classes())
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

func (p *Plan) readStats(n int) (Stats, error) {
	return p.lo.cfg.Loss.ReadStats(p.dev, p.pick(p.lo.lossBufs), n)
}

// pick returns the buffers of indices idx.
func (p *Plan) pick(idx []int) []backend.Buffer {
	out := make([]backend.Buffer, len(idx))
	for i, b := range idx {
		out[i] = p.bufs[b]
	}
	return out
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
