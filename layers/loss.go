package layers

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// SoftmaxCrossEntropy is torch.nn.CrossEntropyLoss (mean reduction) over
// logits [N, Classes] and integer labels stored as floats [N]. It is not a
// Layer of the Sequential: the planner appends it after the model.
type SoftmaxCrossEntropy struct{ Classes int }

// Check verifies that logits of shape out fit the loss.
func (l SoftmaxCrossEntropy) Check(out Shape) error {
	if len(out) != 2 || out[1] != l.Classes || l.Classes <= 0 {
		return fmt.Errorf("SoftmaxCrossEntropy: model output %v is not [N, %d]", []int(out), l.Classes)
	}
	return nil
}

// Forward is softmax_xent over the first n rows: it overwrites dlogits[n,
// Classes] with d(mean loss)/d(logits) and stats[2] with (mean loss, number
// of rows whose first maximal logit is the label).
func (l SoftmaxCrossEntropy) Forward(n int, logits, labels, dlogits, stats backend.Buffer) Dispatch {
	return op(backend.SoftmaxXent{N: u32(n), C: u32(l.Classes)}, logits, labels, dlogits, stats)
}
