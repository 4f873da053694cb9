package tune

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/crossgrad/crossgrad/backend"
)

// entryOf is the cache entry of tuned result r.
func entryOf(r Result) Entry {
	raw, err := json.Marshal(r.P)
	if err != nil {
		raw = nil // a NaN Alpha or Beta does not encode: Load ignores the entry
	}
	return Entry{Kernel: r.P.Kernel(), Shape: r.P.Shape(), Params: raw, Layer: r.Layer,
		Config: r.Chosen, Default: r.Default, Ms: r.ChosenMs, DefaultMs: r.DefaultMs, Tuned: time.Now().UTC()}
}

// key is the TuneKey of e as it claims it (Dispatch checks the claim).
func (e Entry) key() backend.TuneKey { return backend.TuneKey{Kernel: e.Kernel, Shape: e.Shape} }

// decode is Entry.Dispatch.
func (e Entry) decode() (backend.Params, error) {
	if e.isAlgo() {
		return e.decodeAlgo()
	}
	var p backend.Params
	var err error
	switch e.Kernel {
	case backend.KGemm:
		p, err = decodeAs[backend.Gemm](e.Params)
	case backend.KConv2DFwd:
		p, err = decodeAs[backend.Conv2DFwd](e.Params)
	case backend.KConv2DBwdData:
		p, err = decodeAs[backend.Conv2DBwdData](e.Params)
	case backend.KConv2DBwdFilter:
		p, err = decodeAs[backend.Conv2DBwdFilter](e.Params)
	default:
		if backend.ParamsFor(e.Kernel) == nil {
			return nil, fmt.Errorf("tune cache entry: unknown kernel %q", e.Kernel)
		}
		return nil, fmt.Errorf("tune cache entry: kernel %s is not tiled (tiled: %v)", e.Kernel, backend.TiledKernels())
	}
	if err != nil {
		return nil, fmt.Errorf("tune cache entry %s %q: params: %w", e.Kernel, e.Shape, err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("tune cache entry %s %q: params: %w", e.Kernel, e.Shape, err)
	}
	if s := p.Shape(); s != e.Shape {
		return nil, fmt.Errorf("tune cache entry %s %q: its params have shape %q", e.Kernel, e.Shape, s)
	}
	return p, nil
}

// decodeAs decodes raw into params struct T, refusing unknown fields and
// anything after the object.
func decodeAs[T backend.Params](raw json.RawMessage) (backend.Params, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fmt.Errorf("missing")
	}
	var v T
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("data after the params object")
	}
	return v, nil
}
