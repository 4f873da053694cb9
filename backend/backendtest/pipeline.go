package backendtest

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// pipeline holds the buffers a multi-dispatch check (the Winograd
// pipelines) allocates on dev, so that release frees every one of them.
type pipeline struct {
	dev  backend.Device
	bufs []backend.Buffer
}

// alloc allocates n elements, written with data unless it is nil.
func (p *pipeline) alloc(n int, data []float32) (backend.Buffer, error) {
	buf, err := p.dev.Alloc(n)
	if err != nil {
		return nil, fmt.Errorf("alloc %d elements: %w", n, err)
	}
	p.bufs = append(p.bufs, buf)
	if data != nil {
		err = p.dev.Write(buf, 0, data)
	}
	return buf, err
}

// release frees every buffer alloc returned.
func (p *pipeline) release() {
	for _, buf := range p.bufs {
		buf.Release()
	}
}

// step is one dispatch of a pipeline.
type step struct {
	p    backend.Params
	bufs []backend.Buffer
}

// run queues steps in order; the error names what and the failing kernel.
func (p *pipeline) run(what string, steps []step) error {
	for _, s := range steps {
		if err := p.dev.Dispatch(s.p, s.bufs...); err != nil {
			return fmt.Errorf("%s: %s %s: %w", what, s.p.Kernel(), s.p.Shape(), err)
		}
	}
	return nil
}
