package graph

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/layers"
)

// Loss is the objective a plan appends after the model: it owns the
// targets' buffer and the step statistics, and seeds the backward pass with
// the gradient of the loss with respect to the logits.
type Loss interface {
	// Type names the loss in Part.Type, e.g. "CrossEntropyLoss".
	Type() string
	// Buffers checks the model output shape out (planned batch first) and
	// declares the loss's buffers: first the targets Upload writes, then
	// any others (the statistics).
	Buffers(out layers.Shape) ([]BufferSpec, error)
	// CheckTargets verifies the targets of len(targets) images before
	// they are uploaded; the error names the first bad one.
	CheckTargets(targets []float32) error
	// Forward lists the dispatches writing dlogits (the gradient of the
	// mean loss over the first n rows) and the statistics from logits and
	// the loss's buffers, in Buffers order.
	Forward(n int, logits, dlogits backend.Buffer, bufs []backend.Buffer) []layers.Dispatch
	// ReadStats reads the statistics of the last Forward over n images with
	// a single Read.
	ReadStats(dev backend.Device, bufs []backend.Buffer, n int) (Stats, error)
}

// SoftmaxCrossEntropy is torch.nn.CrossEntropyLoss (mean reduction) over
// logits [N, Classes] and class indices stored as floats [N].
type SoftmaxCrossEntropy struct{ Classes int }

// Type implements Loss.
func (SoftmaxCrossEntropy) Type() string { return "CrossEntropyLoss" }

// Buffers implements Loss: "input.labels" (one float per image) and
// "stats" (mean loss, correct count).
func (l SoftmaxCrossEntropy) Buffers(out layers.Shape) ([]BufferSpec, error) {
	if len(out) != 2 || out[1] != l.Classes || l.Classes <= 0 {
		return nil, fmt.Errorf("SoftmaxCrossEntropy: model output %v is not [N, %d]", []int(out), l.Classes)
	}
	return []BufferSpec{{Name: "input.labels", Kind: KindLabels, Elems: out[0]}, {Name: "stats", Kind: KindStats, Elems: 2}}, nil
}

// CheckTargets implements Loss: every target is a class index in [0, Classes).
func (l SoftmaxCrossEntropy) CheckTargets(targets []float32) error {
	for i, t := range targets {
		if !(t >= 0 && t < float32(l.Classes)) || t != float32(int(t)) {
			return fmt.Errorf("graph: label %v of image %d is not a class index in [0, %d)", t, i, l.Classes)
		}
	}
	return nil
}

// Forward implements Loss: softmax_xent over the first n rows overwrites
// dlogits[n, Classes] and stats[2] = (mean loss, rows whose first maximal
// logit is the label).
func (l SoftmaxCrossEntropy) Forward(n int, logits, dlogits backend.Buffer, bufs []backend.Buffer) []layers.Dispatch {
	sx := backend.SoftmaxXent{N: uint32(n), C: uint32(l.Classes)}
	return []layers.Dispatch{{P: sx, Bufs: []backend.Buffer{logits, bufs[0], dlogits, bufs[1]}}}
}

// ReadStats implements Loss.
func (SoftmaxCrossEntropy) ReadStats(dev backend.Device, bufs []backend.Buffer, n int) (Stats, error) {
	var s [2]float32
	if err := dev.Read(bufs[1], 0, s[:]); err != nil {
		return Stats{}, fmt.Errorf("graph: reading step statistics: %w", err)
	}
	return Stats{Loss: s[0], Correct: int(s[1]), N: n}, nil
}
