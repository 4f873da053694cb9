package opencl

import (
	"fmt"
	"unsafe"

	"github.com/jgillich/go-opencl/cl"

	"github.com/crossgrad/crossgrad/backend"
)

// pilTable is the device copy of PIL's bilinear taps for one axis resized
// from in to out positions: out first positions, then out rows of taps
// fixed-point weights (zero-padded), all int32.
type pilTable struct {
	mem  *cl.MemObject
	taps int
}

// pilCoeffs lays out backend.PILBilinearCoeffs as one int32 table: out
// first positions, then out rows of taps weights (zero-padded).
func pilCoeffs(in, out int) (table []int32, taps int) {
	first, weights := backend.PILBilinearCoeffs(in, out)
	for _, w := range weights {
		taps = max(taps, len(w))
	}
	table = make([]int32, out+out*taps)
	for o := range out {
		table[o] = int32(first[o])
		copy(table[out+o*taps:], weights[o])
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
