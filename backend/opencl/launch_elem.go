package opencl

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// Work-group sizes of the 1-D kernels before clipping to the kernel's limit:
// a multiple of every GPU's SIMD width, and larger groups on CPU drivers,
// where each group is one task (PoCL: 1024 runs 1.1-1.4x faster than 256 on
// a streaming kernel).
const (
	localSize1DGPU = 256
	localSize1DCPU = 1024
)

// items1D is the preferred work-group size of d's 1-D kernels.
func (d *Device) items1D() int {
	if d.info.Type == backend.CPUDevice {
		return localSize1DCPU
	}
	return localSize1DGPU
}

func init() {
	n := func(v uint32) int { return int(v) }
	registerLauncher(backend.KReluFwd, perItem(backend.ReluFwd.Elements))
	registerLauncher(backend.KReluBwd, perItem(backend.ReluBwd.Elements))
	registerLauncher(backend.KDropoutFwd, perItem(backend.DropoutFwd.Elements))
	registerLauncher(backend.KDropoutBwd, perItem(backend.DropoutBwd.Elements))
	registerLauncher(backend.KFill, perItem(backend.Fill.Elements))
	registerLauncher(backend.KAxpy, perItem(backend.Axpy.Elements))
	registerLauncher(backend.KScale, perItem(backend.Scale.Elements))
	registerLauncher(backend.KAdam, perItem(backend.Adam.Elements))
	registerLauncher(backend.KBiasGrad, launchBiasGrad)
	registerLauncher(backend.KBiasAdd, perGrid(func(p backend.BiasAdd) [3]int { return [3]int{n(p.Cols), n(p.Rows), 1} }))
	registerLauncher(backend.KMaxPoolFwd, perGrid(func(p backend.MaxPoolFwd) [3]int {
		return [3]int{n(p.OW), n(p.OH), n(p.N) * n(p.C)}
	}))
	registerLauncher(backend.KMaxPoolBwd, launchMaxPoolBwd)
	registerLauncher(backend.KSoftmaxXent, launchSoftmaxXent)
	registerLauncher(backend.KResizeBilinear, launchResize)
	registerLauncher(backend.KCountNonfinite, launchCountNonfinite)
}

// launchBiasGrad runs one work-item per column; without MaskRelu the
// kernel's unread y argument is dy.
func launchBiasGrad(d *Device, p backend.Params, bufs []*Buffer) error {
	q, err := paramsAs[backend.BiasGrad](p)
	if err != nil {
		return err
	}
	return perItem(func(p backend.BiasGrad) int { return int(p.Cols) })(d, q, withMask(bufs, 2, 0))
}

// paramsAs returns p as the params struct T (p may also be a *T).
func paramsAs[T backend.Params](p backend.Params) (T, error) {
	q, err := backend.ParamsAs[T](p)
	if err != nil {
		return q, fmt.Errorf("opencl: %w", err)
	}
	return q, nil
}

// kernelArgs is p as T followed by bufs: the arguments of a kernel function
// taking (params, buffers in dispatch order).
func kernelArgs[T backend.Params](p backend.Params, bufs []*Buffer) (T, []any, error) {
	q, err := paramsAs[T](p)
	if err != nil {
		return q, nil, err
	}
	args := make([]any, 0, 1+len(bufs))
	args = append(args, q)
	for _, b := range bufs {
		args = append(args, b)
	}
	return q, args, nil
}

// perItem launches the kernel function named as the kernel with arguments
// (params, buffers in dispatch order) over items(p) work-items in 1-D.
func perItem[T backend.Params](items func(T) int) launcher {
	return func(d *Device, p backend.Params, bufs []*Buffer) error {
		q, args, err := kernelArgs[T](p, bufs)
		if err != nil {
			return err
		}
		k := q.Kernel()
		return d.enqueue(k, string(k), []int{items(q)}, []int{d.local1D(string(k), d.items1D())}, args...)
	}
}

// perGrid launches the kernel function named as the kernel with arguments
// (params, buffers in dispatch order) over the 3-D grid grid(p) of
// work-items (x fastest; the kernel bounds-checks x and y).
func perGrid[T backend.Params](grid func(T) [3]int) launcher {
	return func(d *Device, p backend.Params, bufs []*Buffer) error {
		q, args, err := kernelArgs[T](p, bufs)
		if err != nil {
			return err
		}
		k := q.Kernel()
		g := grid(q)
		return d.enqueue(k, string(k), g[:], d.localGrid(string(k), g[0], g[1]), args...)
	}
}

// localGrid is the work-group shape (lx, ly, 1) of a 3-D launch over an
// x*y*z grid: lx a power of two covering x up to 32 (a warp of adjacent
// addresses), ly a power of two filling the group up to d.items1D(), both
// within the kernel's and the device's limits.
func (d *Device) localGrid(name string, x, y int) []int {
	limit := d.local1D(name, d.items1D())
	lx, ly := 1, 1
	for lx < x && lx < 32 && lx*2 <= limit && lx*2 <= d.maxItem(0) {
		lx *= 2
	}
	for ly < y && lx*ly*2 <= limit && ly*2 <= d.maxItem(1) {
		ly *= 2
	}
	return []int{lx, ly, 1}
}

// maxItem is CL_DEVICE_MAX_WORK_ITEM_SIZES[dim] (large when unknown).
func (d *Device) maxItem(dim int) int {
	if dim < len(d.maxItems) && d.maxItems[dim] > 0 {
		return d.maxItems[dim]
	}
	return 1 << 30
}

// local1D is the largest power of two <= want that kernel function name
// can run as one work-group on d (CL_KERNEL_WORK_GROUP_SIZE, itself within
// the device's MaxWorkGroupSize).
func (d *Device) local1D(name string, want int) int {
	limit := d.info.MaxWorkGroupSize
	if n, ok := d.maxWG[name]; ok {
		limit = n
	}
	l := 1
	for l*2 <= want && l*2 <= limit {
		l *= 2
	}
	return l
}

// launchSoftmaxXent runs softmax_xent as one work-group over every row, so
// the mean loss and the correct count are reduced deterministically.
func launchSoftmaxXent(d *Device, p backend.Params, bufs []*Buffer) error {
	q, err := paramsAs[backend.SoftmaxXent](p)
	if err != nil {
		return err
	}
	l := d.local1D("softmax_xent", softmaxGroup)
	return d.enqueue(backend.KSoftmaxXent, "softmax_xent", []int{l}, []int{l}, q, bufs[0], bufs[1], bufs[2], bufs[3])
}

// softmaxGroup is the work-group size of softmax_xent; the kernel's local
// arrays hold this many entries.
const softmaxGroup = 256

// launchCountNonfinite runs count_nonfinite as one work-group (the count of
// a whole tensor in one pass, no atomics, so no output to clear first).
func launchCountNonfinite(d *Device, p backend.Params, bufs []*Buffer) error {
	q, err := paramsAs[backend.CountNonfinite](p)
	if err != nil {
		return err
	}
	l := d.local1D("count_nonfinite", min(d.items1D(), countNonfiniteGroup))
	return d.enqueue(backend.KCountNonfinite, "count_nonfinite", []int{l}, []int{l}, q, bufs[0], bufs[1])
}

// countNonfiniteGroup is the largest work-group of count_nonfinite; the
// kernel's local array holds this many entries.
const countNonfiniteGroup = 1024

// maxPoolBwdElems is the per-element launcher of maxpool_bwd.
var maxPoolBwdElems = perGrid(func(p backend.MaxPoolBwd) [3]int {
	return [3]int{int(p.W), int(p.H), int(p.N) * int(p.C)}
})

// launchMaxPoolBwd runs maxpool_bwd_planes (one work-item per plane) on CPUs
// when there are at least as many planes as compute units, else the
// per-element maxpool_bwd. Buffers: dy, idx, dx.
func launchMaxPoolBwd(d *Device, p backend.Params, bufs []*Buffer) error {
	q, err := paramsAs[backend.MaxPoolBwd](p)
	if err != nil {
		return err
	}
	planes := int(q.N) * int(q.C)
	if d.info.Type != backend.CPUDevice || planes < max(d.info.ComputeUnits, 1) {
		return maxPoolBwdElems(d, p, bufs)
	}
	g := []int{planes, 1, 1}
	return d.enqueue(backend.KMaxPoolBwd, "maxpool_bwd_planes", g, d.localGrid("maxpool_bwd_planes", g[0], g[1]),
		q, bufs[0], bufs[1], bufs[2])
}
