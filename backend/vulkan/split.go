package vulkan

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// maxRange is the device's maxStorageBufferRange in bytes: the most one
// storage-buffer descriptor can address (128 MiB on lavapipe).
func (d *Device) maxRange() uint64 { return uint64(d.limits.MaxStorageBufferRange) }

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

// withN returns an element-wise params struct covering n elements.
func withN(p backend.Params, n uint32) backend.Params {
	switch q := p.(type) {
	case backend.ReluFwd:
		q.N = n
		return q
	case backend.ReluBwd:
		q.N = n
		return q
	case backend.DropoutFwd:
		q.N = n
		return q
	case backend.DropoutBwd:
		q.N = n
		return q
	case backend.Fill:
		q.N = n
		return q
	case backend.Axpy:
		q.N = n
		return q
	case backend.Scale:
		q.N = n
		return q
	case backend.Adam:
		q.N = n
		return q
	}
	return nil
}

// planSplit plans a dispatch with a buffer larger than maxStorageBufferRange
// as a sequence of dispatches over windows of the large buffers: element
// ranges of the element-wise kernels and count_nonfinite (whose later
// windows add to the first one's count), row ranges of bias_add and bias_grad,
// plane ranges of the pools and image ranges of the convolutions. The
// reductions over images or rows (conv2d_bwd_filter, bias_grad) sum their
// windows' results into the outputs with axpy passes.
func (d *Device) planSplit(p backend.Params, binds []binding) ([]*pass, error) {
	var out []*pass
	add := func(sub backend.Params, bs []binding) error {
		ps, err := d.planOne(sub, bs)
		out = append(out, ps...)
		return err
	}
	// each runs f over windows of c units of total.
	each := func(total int, units []int, f func(from, count int) error) error {
		c, err := d.chunkUnits(units...)
		if err != nil {
			return err
		}
		for from := 0; from < total; from += c {
			if err := f(from, min(c, total-from)); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	switch q := p.(type) {
	case backend.ReluFwd, backend.ReluBwd, backend.DropoutFwd, backend.DropoutBwd,
		backend.Fill, backend.Axpy, backend.Scale, backend.Adam:
		n := binds[0].elems
		err = each(n, []int{1}, func(from, count int) error {
			bs := make([]binding, len(binds))
			for i := range binds {
				bs[i] = window(binds[i], 1, from, count)
			}
			return add(withN(p, uint32(count)), bs)
		})
	case backend.CountNonfinite:
		if uint64(binds[1].elems)*4 > d.maxRange() {
			return nil, fmt.Errorf("count_nonfinite: out slot %d exceeds the device's maxStorageBufferRange of %d bytes", q.Slot, d.maxRange())
		}
		// Later windows add their counts to the first one's.
		err = each(int(q.N), []int{1}, func(from, count int) error {
			sub := backend.CountNonfinite{N: uint32(count), Slot: q.Slot}
			out = append(out, d.countNonfinitePass(sub, []binding{window(binds[0], 1, from, count), binds[1]}, from > 0))
			return nil
		})
	case backend.BiasAdd:
		cols := int(q.Cols)
		err = each(int(q.Rows), []int{cols}, func(from, count int) error {
			return add(backend.BiasAdd{Rows: uint32(count), Cols: q.Cols},
				[]binding{window(binds[0], cols, from, count), binds[1]})
		})
	case backend.MaxPoolFwd:
		in, o := int(q.H*q.W), int(q.OH*q.OW)
		err = each(int(q.N*q.C), []int{in, o}, func(from, count int) error {
			sub := q
			sub.N, sub.C = uint32(count), 1
			return add(sub, []binding{window(binds[0], in, from, count),
				window(binds[1], o, from, count), window(binds[2], o, from, count)})
		})
	case backend.MaxPoolBwd:
		in, o := int(q.H*q.W), int(q.OH*q.OW)
		err = each(int(q.N*q.C), []int{in, o}, func(from, count int) error {
			sub := q
			sub.N, sub.C = uint32(count), 1
			return add(sub, []binding{window(binds[0], o, from, count),
				window(binds[1], o, from, count), window(binds[2], in, from, count)})
		})
	case backend.Conv2DFwd:
		xu, yu := q.XLen()/int(q.N), q.YLen()/int(q.N)
		err = each(int(q.N), []int{xu, yu}, func(from, count int) error {
			sub := q
			sub.N = uint32(count)
			return add(sub, []binding{window(binds[0], xu, from, count), binds[1], binds[2],
				window(binds[3], yu, from, count)})
		})
	case backend.Conv2DBwdData:
		xu, yu := q.XLen()/int(q.N), q.YLen()/int(q.N)
		err = each(int(q.N), []int{yu, xu}, func(from, count int) error {
			sub := q
			sub.N = uint32(count)
			return add(sub, []binding{window(binds[0], yu, from, count), binds[1],
				window(binds[2], xu, from, count)})
		})
	case backend.Conv2DBwdFilter:
		xu, yu := q.XLen()/int(q.N), q.YLen()/int(q.N)
		err = each(int(q.N), []int{xu, yu}, func(from, count int) error {
			sub := q
			sub.N = uint32(count)
			in := []binding{window(binds[0], xu, from, count), window(binds[1], yu, from, count)}
			if from == 0 {
				return add(sub, append(in, binds[2], binds[3]))
			}
			return d.addPartial(add, sub, in, binds[2:4], "conv2d_bwd_filter_acc")
		})
	case backend.BiasGrad:
		cols := int(q.Cols)
		err = each(int(q.Rows), []int{cols}, func(from, count int) error {
			sub := backend.BiasGrad{Rows: uint32(count), Cols: q.Cols}
			in := []binding{window(binds[0], cols, from, count)}
			if from == 0 {
				return add(sub, append(in, binds[1]))
			}
			return d.addPartial(add, sub, in, binds[1:2], "bias_grad_acc")
		})
	default:
		return nil, fmt.Errorf("a buffer exceeds the device's maxStorageBufferRange of %d bytes and %s cannot be split", d.maxRange(), p.Kernel())
	}
	return out, err
}

// addPartial plans sub with its outputs in scratch buffers, then axpy
// passes adding them into outs.
func (d *Device) addPartial(add func(backend.Params, []binding) error, sub backend.Params, in, outs []binding, purpose string) error {
	tmp := make([]binding, len(outs))
	for i, o := range outs {
		s, err := d.scratchBuffer(fmt.Sprintf("%s%d", purpose, i), o.elems)
		if err != nil {
			return err
		}
		tmp[i] = binding{b: s, elems: o.elems, write: true}
	}
	if err := add(sub, append(in, tmp...)); err != nil {
		return err
	}
	for i, o := range outs {
		src := tmp[i]
		src.write = false
		if err := add(backend.Axpy{N: uint32(o.elems), Alpha: 1}, []binding{src, o}); err != nil {
			return err
		}
	}
	return nil
}
