package opencl

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/jgillich/go-opencl/cl"

	"github.com/crossgrad/crossgrad/backend"
)

// pilPrecisionBits is PIL's fixed-point precision of 8-bit resampling.
const pilPrecisionBits = 22

// pilTable is the device copy of PIL's bilinear taps for one axis resized
// from in to out positions: out first positions, then out rows of taps
// fixed-point weights (zero-padded), all int32.
type pilTable struct {
	mem  *cl.MemObject
	taps int
}

// pilCoeffs computes PIL's precompute_coeffs + normalize_coeffs_8bpc for the
// BILINEAR filter in float64, as backend/ref does: per output position the
// first input position and the weights scaled by 2^22, padded to taps.
func pilCoeffs(in, out int) (table []int32, taps int) {
	scale := float64(in) / float64(out)
	fs := max(scale, 1)
	first := make([]int, out)
	ws := make([][]float64, out)
	for o := range out {
		centre := (float64(o) + 0.5) * scale
		lo := max(int(centre-fs+0.5), 0)
		hi := min(int(centre+fs+0.5), in)
		w := make([]float64, max(hi-lo, 0))
		var sum float64
		for j := range w {
			if x := math.Abs((float64(j+lo) - centre + 0.5) / fs); x < 1 {
				w[j] = 1 - x
			}
			sum += w[j]
		}
		for j := range w {
			if sum != 0 {
				w[j] /= sum
			}
		}
		first[o], ws[o] = lo, w
		taps = max(taps, len(w))
	}
	table = make([]int32, out+out*taps)
	for o := range out {
		table[o] = int32(first[o])
		for j, w := range ws[o] {
			table[out+o*taps+j] = int32(0.5 + w*(1<<pilPrecisionBits))
		}
	}
	return table, taps
}

// pilTableFor returns the cached device table of the axis in -> out,
// uploading it on first use. Tables live until Close.
func (d *Device) pilTableFor(in, out int) (pilTable, error) {
	key := [2]int{in, out}
	if t, ok := d.pil[key]; ok {
		return t, nil
	}
	table, taps := pilCoeffs(in, out)
	mem, err := d.ctx.CreateEmptyBuffer(cl.MemReadOnly, len(table)*4)
	if err != nil {
		return pilTable{}, fmt.Errorf("opencl: resize_bilinear: table %d->%d: %w", in, out, wrapCL("clCreateBuffer", err))
	}
	ev, err := d.queue.EnqueueWriteBuffer(mem, true, 0, len(table)*4, unsafe.Pointer(&table[0]), nil)
	ev.Release()
	if err != nil {
		mem.Release()
		return pilTable{}, fmt.Errorf("opencl: resize_bilinear: table %d->%d: %w", in, out, wrapCL("clEnqueueWriteBuffer", err))
	}
	t := pilTable{mem: mem, taps: taps}
	if d.pil == nil {
		d.pil = map[[2]int]pilTable{}
	}
	d.pil[key] = t
	return t, nil
}

// launchResize runs resize_bilinear over the (x, y, image) grid of output
// pixels with the two PIL tap tables.
func launchResize(d *Device, p backend.Params, bufs []*Buffer) error {
	q, err := paramsAs[backend.ResizeBilinear](p)
	if err != nil {
		return err
	}
	h, err := d.pilTableFor(int(q.InW), int(q.OutW))
	if err != nil {
		return err
	}
	v, err := d.pilTableFor(int(q.InH), int(q.OutH))
	if err != nil {
		return err
	}
	g := []int{int(q.OutW), int(q.OutH), int(q.N)}
	return d.enqueue(backend.KResizeBilinear, "resize_bilinear", g, d.localGrid("resize_bilinear", g[0], g[1]),
		q, bufs[0], bufs[1], h.mem, uint32(h.taps), v.mem, uint32(v.taps))
}
