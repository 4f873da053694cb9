package graph

import "fmt"

// Predict runs the forward pass without dropout over images (ImageBytes of
// the input stage each, row-major, as Upload takes them) in batches of at
// most Batch, through the same input stage and layers as evaluation, and
// returns their logits [n, Classes]. The images' labels are not needed: the
// loss is computed against class 0 and ignored. It overwrites Input and
// Labels.
func (p *Plan) Predict(images []byte) ([]float32, error) {
	if err := p.usable(); err != nil {
		return nil, err
	}
	in := p.lo.cfg.Input
	size := in.ImageBytes()
	if len(images) == 0 || len(images)%size != 0 {
		return nil, fmt.Errorf("graph: predict: %d image bytes are not a whole, non-zero number of %s images", len(images), in)
	}
	n := len(images) / size
	out := make([]float32, 0, n*p.lo.classes())
	for start := 0; start < n; start += p.lo.Batch {
		k := min(p.lo.Batch, n-start)
		if err := p.Upload(images[start*size:(start+k)*size], make([]int, k)); err != nil {
			return nil, fmt.Errorf("graph: predict: %w", err)
		}
		if _, err := p.EvalStep(k); err != nil {
			return nil, fmt.Errorf("graph: predict: %w", err)
		}
		logits, err := p.ReadLogits(k)
		if err != nil {
			return nil, fmt.Errorf("graph: predict: %w", err)
		}
		out = append(out, logits...)
	}
	return out, nil
}
