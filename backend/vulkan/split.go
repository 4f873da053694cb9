package vulkan

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// maxRange is the device's maxStorageBufferRange in bytes: the most one
// storage-buffer descriptor can address (128 MiB on lavapipe).
func (d *Device) maxRange() uint64 { return uint64(d.limits.MaxStorageBufferRange) }

// maxTexelRange is the largest texel-buffer binding in bytes
// (maxTexelBufferElements texels of floats floats).
func (d *Device) maxTexelRange(floats uint8) uint64 {
	return uint64(d.limits.MaxTexelBufferElements) * 4 * uint64(floats)
}

// alignElems is minStorageBufferOffsetAlignment in float32 elements.
func (d *Device) alignElems() int {
	return max(1, ceilDiv(int(d.limits.MinStorageBufferOffsetAlignment), 4))
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// chunkUnits is how many units of work one window covers when buffer i
// holds units[i] elements per unit: every window fits maxStorageBufferRange
// and every window start (a multiple of the result) is aligned to
// minStorageBufferOffsetAlignment.
func (d *Device) chunkUnits(units ...int) (int, error) {
	step, limit := 1, int(d.maxRange()/4)
	a := d.alignElems()
	for _, u := range units {
		need := a / gcd(u, a)
		step = step / gcd(step, need) * need
		limit = min(limit, int(d.maxRange()/4)/u)
	}
	c := limit / step * step
	if c == 0 {
		return 0, fmt.Errorf("one unit of %v elements does not fit a window of maxStorageBufferRange %d bytes", units, d.maxRange())
	}
	return c, nil
}

// window is elements [unit*from, unit*(from+count)) of a binding.
func window(b binding, unit, from, count int) binding {
	b.off += unit * from
	b.elems = unit * count
	return b
}

// splitters are the kernels other than the element-wise ones that can run
// as windows of their leading dimension: row ranges of bias_add and
// bias_grad, plane ranges of the pools, image ranges of the convolutions,
// element ranges of count_nonfinite (whose later windows add to the first
// one's count).
var splitters = map[backend.Kernel]planner{
	backend.KCountNonfinite:  typed((*Device).splitCountNonfinite),
	backend.KBiasAdd:         typed((*Device).splitBiasAdd),
	backend.KBiasGrad:        typed((*Device).splitBiasGrad),
	backend.KMaxPoolFwd:      typed((*Device).splitMaxPoolFwd),
	backend.KMaxPoolBwd:      typed((*Device).splitMaxPoolBwd),
	backend.KConv2DFwd:       typed((*Device).splitConvFwd),
	backend.KConv2DBwdData:   typed((*Device).splitConvBwdData),
	backend.KConv2DBwdFilter: typed((*Device).splitConvBwdFilter),
}

// planSplit plans a dispatch with a buffer larger than maxStorageBufferRange
// as a sequence of dispatches over windows of the large buffers: element
// ranges of the element-wise kernels (backend.Elementwise), or the windows
// its splitter chooses.
func (d *Device) planSplit(p backend.Params, binds []binding) ([]*pass, error) {
	if e, ok := p.(backend.Elementwise); ok {
		units := make([]int, len(binds))
		for i := range units {
			units[i] = 1
		}
		return d.windows(e.Elements(), units, binds, func(n int) backend.Params { return e.WithElements(n) })
	}
	if f, ok := splitters[p.Kernel()]; ok {
		return f(d, p, binds)
	}
	return nil, fmt.Errorf("a buffer exceeds the device's maxStorageBufferRange of %d bytes and %s cannot be split", d.maxRange(), p.Kernel())
}

// windows plans a dispatch over windows of total units of its leading
// dimension: buffer i holds units[i] elements per unit, or is bound whole
// where units[i] is 0; sub(n) is the params of a window of n units. A
// written buffer bound whole (a reduction over the units) is written by the
// first window, and every later window's result is added to it with axpy.
func (d *Device) windows(total int, units []int, binds []binding, sub func(n int) backend.Params) ([]*pass, error) {
	var per []int
	for _, u := range units {
		if u > 0 {
			per = append(per, u)
		}
	}
	c, err := d.chunkUnits(per...)
	if err != nil {
		return nil, err
	}
	var out []*pass
	add := func(p backend.Params, bs []binding) error {
		ps, err := d.planOne(p, bs)
		out = append(out, ps...)
		return err
	}
	for from := 0; from < total; from += c {
		count := min(c, total-from)
		bs := make([]binding, len(binds))
		var sums []int
		for i, b := range binds {
			bs[i] = b
			if units[i] > 0 {
				bs[i] = window(b, units[i], from, count)
			} else if b.write && from > 0 {
				sums = append(sums, i)
			}
		}
		if err := d.addPartial(add, sub(count), bs, sums); err != nil {
			return out, err
		}
	}
	return out, nil
}

// addPartial plans p over bs with the buffers sums in scratch buffers, then
// axpy passes adding them into the buffers of bs.
func (d *Device) addPartial(add func(backend.Params, []binding) error, p backend.Params, bs []binding, sums []int) error {
	if len(sums) == 0 {
		return add(p, bs)
	}
	outs := make([]binding, len(sums))
	for j, i := range sums {
		outs[j] = bs[i]
		s, err := d.scratchBuffer(fmt.Sprintf("%s_acc%d", p.Kernel(), i), bs[i].elems)
		if err != nil {
			return err
		}
		bs[i] = binding{b: s, elems: outs[j].elems, write: true}
	}
	if err := add(p, bs); err != nil {
		return err
	}
	for j, i := range sums {
		src := bs[i]
		src.write = false
		if err := add(backend.Axpy{N: uint32(outs[j].elems), Alpha: 1}, []binding{src, outs[j]}); err != nil {
			return err
		}
	}
	return nil
}

func (d *Device) splitCountNonfinite(q backend.CountNonfinite, binds []binding) ([]*pass, error) {
	if uint64(binds[1].elems)*4 > d.maxRange() {
		return nil, fmt.Errorf("count_nonfinite: out slot %d exceeds the device's maxStorageBufferRange of %d bytes", q.Slot, d.maxRange())
	}
	c, err := d.chunkUnits(1)
	if err != nil {
		return nil, err
	}
	var out []*pass
	for from := 0; from < int(q.N); from += c {
		count := min(c, int(q.N)-from)
		sub := backend.CountNonfinite{N: uint32(count), Slot: q.Slot}
		out = append(out, d.countNonfinitePass(sub, []binding{window(binds[0], 1, from, count), binds[1]}, from > 0))
	}
	return out, nil
}

func (d *Device) splitBiasAdd(q backend.BiasAdd, binds []binding) ([]*pass, error) {
	return d.windows(int(q.Rows), []int{int(q.Cols), 0}, binds, func(n int) backend.Params {
		sub := q
		sub.Rows = uint32(n)
		return sub
	})
}

func (d *Device) splitBiasGrad(q backend.BiasGrad, binds []binding) ([]*pass, error) {
	units := []int{int(q.Cols), 0}
	if q.MaskRelu != 0 {
		units = append(units, int(q.Cols))
	}
	return d.windows(int(q.Rows), units, binds, func(n int) backend.Params {
		sub := q
		sub.Rows = uint32(n)
		return sub
	})
}

func (d *Device) splitMaxPoolFwd(q backend.MaxPoolFwd, binds []binding) ([]*pass, error) {
	in, o := int(q.H*q.W), int(q.OH*q.OW)
	return d.windows(int(q.N*q.C), []int{in, o, o}, binds, func(n int) backend.Params {
		sub := q
		sub.N, sub.C = uint32(n), 1
		return sub
	})
}

func (d *Device) splitMaxPoolBwd(q backend.MaxPoolBwd, binds []binding) ([]*pass, error) {
	in, o := int(q.H*q.W), int(q.OH*q.OW)
	return d.windows(int(q.N*q.C), []int{o, o, in}, binds, func(n int) backend.Params {
		sub := q
		sub.N, sub.C = uint32(n), 1
		return sub
	})
}

// convUnits is the elements per image of a convolution's input and output.
func convUnits(g backend.Conv2DShape) (x, y int) { return g.XLen() / int(g.N), g.YLen() / int(g.N) }

func (d *Device) splitConvFwd(q backend.Conv2DFwd, binds []binding) ([]*pass, error) {
	x, y := convUnits(q.Conv2DShape)
	return d.windows(int(q.N), []int{x, 0, 0, y}, binds, func(n int) backend.Params {
		sub := q
		sub.N = uint32(n)
		return sub
	})
}

func (d *Device) splitConvBwdData(q backend.Conv2DBwdData, binds []binding) ([]*pass, error) {
	x, y := convUnits(q.Conv2DShape)
	units := []int{y, 0, x}
	if q.MaskRelu != 0 {
		units = append(units, y)
	}
	return d.windows(int(q.N), units, binds, func(n int) backend.Params {
		sub := q
		sub.N = uint32(n)
		return sub
	})
}

// splitConvBwdFilter sums the weight and bias gradients of image windows.
func (d *Device) splitConvBwdFilter(q backend.Conv2DBwdFilter, binds []binding) ([]*pass, error) {
	x, y := convUnits(q.Conv2DShape)
	units := []int{x, y, 0, 0}
	if q.MaskRelu != 0 {
		units = append(units, y)
	}
	return d.windows(int(q.N), units, binds, func(n int) backend.Params {
		sub := q
		sub.N = uint32(n)
		return sub
	})
}
