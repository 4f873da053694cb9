package graph

import (
	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/layers"
)

// FusesRelu reports whether the plan's fusion pass folds the ReLU at layer
// i+1 into layer i's forward pass (Ctx.FuseRelu), so that the ReLU emits no
// forward dispatch: unless Config.NoFuse, when layer i is a Linear or a
// Conv2d (implicit GEMM or Winograd forward) and layer i+1 a ReLU running
// in place over layer i's output (so nothing reads the unclamped values).
// Fusion changes no value, only the number of passes; the ReLU's backward
// is folded separately (MasksRelu).
func (p *Plan) FusesRelu(i int) bool {
	if !p.reluAfter(i) {
		return false
	}
	switch p.layers[i].(type) {
	case *layers.Linear, *layers.Conv2d:
		return true
	}
	return false
}

// MasksRelu reports whether the plan's fusion pass folds the backward of
// the ReLU at layer i+1 (relu_bwd) into layer i's backward pass
// (Ctx.MaskRelu), so that the ReLU emits no backward dispatch: unless
// Config.NoFuse, when layer i is a Linear, whose bias_grad masks dy in
// place before its two products read it (BiasGrad.MaskRelu), or a Conv2d,
// whose products read dy masked (the MaskRelu of conv2d_bwd_data,
// winograd_input, winograd_dy and conv2d_bwd_filter), and layer i+1 a ReLU
// in place over layer i's output whose gradient is in place too. On a CPU
// device a Conv2d never folds it: its products load each dy element many
// times (an implicit GEMM once per tap and tile column, the Winograd
// transforms once per overlapping window, and the input gradient's and the
// filter gradient's transforms both), so on PoCL the masked loads cost more
// than the one relu_bwd pass they replace (conv.3 at batch 128: implicit
// conv2d_bwd_data 3694 against 3493 ms with relu_bwd 30 ms; the masked
// Winograd transforms of the seed's step 819 against 725 ms with the
// relu_bwd passes' 13 ms, on a Zen 4 VM).
func (p *Plan) MasksRelu(i int) bool {
	if !p.reluAfter(i) {
		return false
	}
	lo := p.lo
	if g := lo.grad[i+1]; g < 0 || g != lo.grad[i+2] {
		return false
	}
	switch p.layers[i].(type) {
	case *layers.Linear:
		return true
	case *layers.Conv2d:
		return p.dev.Info().Type != backend.CPUDevice
	}
	return false
}

// reluAfter reports whether fusion is on and layer i+1 is a ReLU running
// in place over layer i's output.
func (p *Plan) reluAfter(i int) bool {
	lo := p.lo
	if lo.cfg.NoFuse || i < 0 || i+1 >= len(p.layers) {
		return false
	}
	_, ok := p.layers[i+1].(*layers.ReLU)
	return ok && lo.act[i+1] == lo.act[i+2]
}

// StepDispatches is the number of dispatches of one training step over a
// full batch (input stage, forward, loss, backward and updates, as
// TrainStepParts lists them): what the fusion pass reduces.
func (p *Plan) StepDispatches() (int, error) {
	parts, err := p.TrainStepParts(1, p.lo.Batch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, part := range parts {
		n += len(part.Dispatches)
	}
	return n, nil
}
