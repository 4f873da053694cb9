package vulkan

import (
	"fmt"
	"math"
	"runtime"
	"slices"

	"github.com/crossgrad/crossgrad/backend"
)

// tileConfigs are the staged GEMM tilings the default choice picks from on
// GPUs: square 64x64 tiles with 4x4 outputs per invocation for large
// products, and narrower tiles for products with few rows or columns (a
// convolution's input gradient of a single channel, a classifier layer of 10
// outputs), where a 64-row tile would mostly compute padding.
var tileConfigs = []tileCfg{
	staged(16, 16, 64, 64, 16),
	staged(16, 8, 32, 64, 16),
	staged(8, 16, 64, 32, 16),
	staged(64, 2, 8, 256, 8),
	staged(2, 64, 256, 8, 8),
	staged(64, 1, 2, 256, 8),
	staged(1, 64, 256, 2, 8),
	staged(8, 8, 32, 32, 16),
}

// tileConfigsCPU replace tileConfigs on CPU devices (lavapipe): 64
// invocations (8 SIMD lanes by 8) with 8x8 outputs each, because every
// invocation group of a work-group is a coroutine switched at each barrier
// there; measured about 2x faster than 16x16 groups with 4x4 outputs.
var tileConfigsCPU = []tileCfg{
	staged(8, 8, 64, 64, 16),
	staged(8, 8, 64, 32, 16),
	staged(8, 8, 32, 64, 16),
	staged(64, 2, 8, 256, 8),
	staged(2, 64, 256, 8, 8),
	staged(64, 1, 2, 256, 8),
	staged(1, 64, 256, 2, 8),
	staged(8, 8, 32, 32, 16),
}

// maxGroups is the group count per dimension every Vulkan device supports.
const maxGroups = 65535

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// wg1 is the work-group size of the 1-D kernels: a power of two up to 256
// within the device's limits.
func (d *Device) wg1() uint32 {
	lim := min(d.limits.MaxComputeWorkGroupInvocations, d.limits.MaxComputeWorkGroupSize[0], 256)
	w := uint32(1)
	for w*2 <= lim {
		w *= 2
	}
	return w
}

// groups1D covers n elements with 1-D groups; the shaders loop over the
// rest when n needs more than maxGroups groups.
func (d *Device) groups1D(n int) [3]uint32 {
	g := min(ceilDiv(max(n, 1), int(d.wg1())), maxGroups)
	return [3]uint32{uint32(g), 1, 1}
}

// tileFor is the tiling of the dispatch being planned, an m x n product:
// the configuration forced or set for it (d.cur), else the default.
func (d *Device) tileFor(m, n int) tileCfg {
	if d.cur != nil {
		return *d.cur
	}
	return d.tile(m, n)
}

// tile is the default GEMM tiling for an m x n result: the allowed
// configuration with the least estimated cost, padded work plus the operand
// loads a tile's shape implies (pm*pn*(1 + 16/tm + 16/tn)).
func (d *Device) tile(m, n int) tileCfg {
	cfgs := tileConfigs
	if d.info.Type == backend.CPUDevice {
		cfgs = tileConfigsCPU
	}
	best, bestCost := cfgs[len(cfgs)-1], math.Inf(1)
	for _, c := range cfgs {
		if !d.tileFits(c) {
			continue
		}
		pm := float64(ceilDiv(m, int(c.tm)) * int(c.tm))
		pn := float64(ceilDiv(n, int(c.tn)) * int(c.tn))
		cost := pm * pn * (1 + 16/float64(c.tm) + 16/float64(c.tn))
		if cost < bestCost {
			best, bestCost = c, cost
		}
	}
	return best
}

// tileFits reports whether the device can run tiling c.
func (d *Device) tileFits(c tileCfg) bool { return d.checkCfg(c) == nil }

// parallelGroups is about how many work-groups keep the device busy; split-K
// and split-row passes are added below it.
func (d *Device) parallelGroups() int {
	if d.info.Type == backend.CPUDevice {
		return 2 * runtime.NumCPU()
	}
	return 256
}

// gemmGroups is the grid of an M x N tiled product with z splits.
func gemmGroups(c tileCfg, m, n, z int) ([3]uint32, error) {
	gx, gy := ceilDiv(n, int(c.tn)), ceilDiv(m, int(c.tm))
	if gx > maxGroups || gy > maxGroups {
		return [3]uint32{}, fmt.Errorf("a %d x %d product needs %d x %d work-groups, over the limit of %d", m, n, gx, gy, maxGroups)
	}
	return [3]uint32{uint32(gx), uint32(gy), uint32(z)}, nil
}

// plan turns one dispatch into its passes: the whole buffers bound when
// they fit maxStorageBufferRange, else the work split into windows (see
// planSplit). A binding is marked written, and so guarded by barriers, when
// the kernel's roles say it writes the buffer.
func (d *Device) plan(p backend.Params, b []*Buffer) ([]*pass, error) {
	sizes := p.BufferSizes()
	binds := make([]binding, len(b))
	for i, r := range p.Buffers() {
		binds[i] = binding{b: b[i], elems: sizes[i], write: r.Access.Writes()}
	}
	d.cur = d.chosenTile(p)
	defer func() { d.cur = nil }()
	for _, bd := range binds {
		if uint64(bd.elems)*4 > d.maxRange() {
			return d.planSplit(p, binds)
		}
	}
	return d.planOne(p, binds)
}

// planner plans the passes of one kernel over bindings that fit
// maxStorageBufferRange.
type planner func(d *Device, p backend.Params, binds []binding) ([]*pass, error)

// typed adapts a planner of params struct T.
func typed[T backend.Params](f func(d *Device, q T, binds []binding) ([]*pass, error)) planner {
	return func(d *Device, p backend.Params, binds []binding) ([]*pass, error) {
		q, err := backend.ParamsAs[T](p)
		if err != nil {
			return nil, err
		}
		return f(d, q, binds)
	}
}

// planners is the Vulkan implementation of every kernel.
var planners = map[backend.Kernel]planner{
	backend.KConv2DFwd:       typed((*Device).planConvFwd),
	backend.KConv2DBwdData:   typed((*Device).planConvBwdData),
	backend.KConv2DBwdFilter: typed((*Device).planBwdFilter),
	backend.KMaxPoolFwd:      oneD(backend.MaxPoolFwd.YLen),
	backend.KMaxPoolBwd:      typed((*Device).planMaxPoolBwd),
	backend.KReluFwd:         oneD(backend.ReluFwd.Elements),
	backend.KReluBwd:         typed((*Device).planReluBwd),
	backend.KDropoutFwd:      typed(planDropout[backend.DropoutFwd]),
	backend.KDropoutBwd:      typed(planDropout[backend.DropoutBwd]),
	backend.KGemm:            typed((*Device).planGemm),
	backend.KBiasAdd:         oneD(func(q backend.BiasAdd) int { return int(q.Rows * q.Cols) }),
	backend.KBiasGrad:        typed((*Device).planBiasGrad),
	backend.KSoftmaxXent:     typed((*Device).planSoftmaxXent),
	backend.KAdam:            typed((*Device).planAdam),
	backend.KFill:            oneD(backend.Fill.Elements),
	backend.KAxpy:            oneD(backend.Axpy.Elements),
	backend.KScale:           oneD(backend.Scale.Elements),
	backend.KResizeBilinear:  typed((*Device).planResize),
	backend.KCountNonfinite:  typed((*Device).planCountNonfinite),
	backend.KWinogradInput:   typed((*Device).planWinogradInput),
	backend.KWinogradFilter:  typed((*Device).planWinogradFilter),
	backend.KWinogradOutput:  typed((*Device).planWinogradOutput),
	backend.KWinogradDy:      typed((*Device).planWinogradDy),
	backend.KWinogradDw:      typed((*Device).planWinogradDw),
}

// planOne plans a dispatch whose bindings fit maxStorageBufferRange, in
// the texel-read form of its kernel where the device takes it.
func (d *Device) planOne(p backend.Params, binds []binding) ([]*pass, error) {
	pl, ok := planners[p.Kernel()]
	if !ok {
		return nil, fmt.Errorf("no Vulkan implementation for params %T", p)
	}
	passes, err := pl(d, p, binds)
	if err == nil {
		d.texelReads(passes)
	}
	return passes, err
}

// oneD plans kernel T as a single 1-D pass of module T.Kernel() over n(q)
// invocations, with q as its push constants.
func oneD[T backend.Params](n func(T) int) planner {
	return typed(func(d *Device, q T, binds []binding) ([]*pass, error) {
		return d.onePass(string(q.Kernel()), n(q), pushBytes(q), binds), nil
	})
}

// onePass is a single 1-D pass of module over n invocations.
func (d *Device) onePass(module string, n int, push []byte, binds []binding) []*pass {
	return []*pass{{module: module, spec: []uint32{d.wg1()}, groups: d.groups1D(n), push: push, binds: binds}}
}

// dropoutPush is a dropout kernel's push constant block: the RNG index of a
// window's element is its offset Base plus the local index.
type dropoutPush[T any] struct {
	P    T
	Base uint32
}

// planDropout plans dropout_fwd or dropout_bwd over the window binds.
func planDropout[T backend.Elementwise](d *Device, q T, binds []binding) ([]*pass, error) {
	push := pushBytes(dropoutPush[T]{q, uint32(binds[0].off)})
	return d.onePass(string(q.Kernel()), q.Elements(), push, binds), nil
}

// gemmPass is the single pass of a tiled M x N product with z splits.
func gemmPass(module string, c tileCfg, m, n, z int, push []byte, binds []binding) ([]*pass, error) {
	g, err := gemmGroups(c, m, n, z)
	if err != nil {
		return nil, err
	}
	return []*pass{{module: c.module(module), spec: c.spec(), groups: g, push: push, binds: binds}}, nil
}

// planGemm plans one layer of work-groups per product of a batch; 4-wide
// loads of a transposed operand add the TRANS specialization constant.
func (d *Device) planGemm(q backend.Gemm, binds []binding) ([]*pass, error) {
	c := d.tileFor(int(q.M), int(q.N))
	passes, err := gemmPass("gemm", c, int(q.M), int(q.N), q.Batches(), pushBytes(q), d.texelOperands(backend.KGemm, c, binds, 0, 1))
	if err == nil && c.vw == 4 && gemmTrans(q) != 0 {
		passes[0].spec = append(passes[0].spec, gemmTrans(q))
	}
	return passes, err
}

// texelOperands is binds with bindings ops read as texel buffers of
// texelFloats floats per texel when c is a texel configuration (tx=1) of
// kernel k. The checks of the configuration keep dispatches whose operands
// exceed maxTexelBufferElements from it.
func (d *Device) texelOperands(k backend.Kernel, c tileCfg, binds []binding, ops ...int) []binding {
	if c.tx == 0 {
		return binds
	}
	out := slices.Clone(binds)
	for _, i := range ops {
		out[i].texel = texelFloats(k, c, i)
	}
	return out
}

func (d *Device) planConvFwd(q backend.Conv2DFwd, binds []binding) ([]*pass, error) {
	cols := q.YLen() / int(q.K)
	c := d.tileFor(int(q.K), cols)
	return gemmPass("conv2d_fwd", c, int(q.K), cols, 1, pushBytes(q), d.texelOperands(backend.KConv2DFwd, c, binds, 0, 1))
}

// planConvBwdData plans one layer of work-groups per stride phase, each
// with at most ceil(H/StrideH) x ceil(W/StrideW) input positions per image,
// or with fwd=1 the forward form (planBwdDataForward).
func (d *Device) planConvBwdData(q backend.Conv2DBwdData, binds []binding) ([]*pass, error) {
	phases := int(q.StrideH * q.StrideW)
	cols := int(q.N) * ceilDiv(int(q.H), int(q.StrideH)) * ceilDiv(int(q.W), int(q.StrideW))
	if phases > maxGroups {
		return nil, fmt.Errorf("stride %dx%d: %d phases exceed %d work-group layers", q.StrideH, q.StrideW, phases, maxGroups)
	}
	c := d.tileFor(int(q.C), cols)
	if c.fwd != 0 {
		return d.planBwdDataForward(q, c, binds)
	}
	ops := d.texelOperands(backend.KConv2DBwdData, c, withMask(binds, 3, 0), 0, 1)
	if c.tx == 1 {
		ops[3].texel = 1 // the ReLU mask, read as dy is
	}
	return gemmPass("conv2d_bwd_data", c, int(q.C), cols, phases, pushBytes(q), ops)
}

// planWinogradInput is one 1-D pass over the tiles, blocks and channels
// (its vec4 form where winogradInputVec4 admits it); the shader's ym
// binding is x (unread) without MaskRelu.
func (d *Device) planWinogradInput(q backend.WinogradInput, binds []binding) ([]*pass, error) {
	binds = withMask(binds, 2, 0)
	n := q.Tiles() * int(q.Blocks()*q.C)
	if d.winogradInputVec4(q, binds) {
		return d.onePass("winograd_input_vec4", n/4, pushBytes(q), binds), nil
	}
	return d.onePass("winograd_input", n, pushBytes(q), binds), nil
}

// planWinogradFilter is one 1-D pass over the blocks of the filters, of
// module winograd_filter4 for F(4x4,3x3) (F4).
func (d *Device) planWinogradFilter(q backend.WinogradFilter, binds []binding) ([]*pass, error) {
	return d.onePass(f4Module(string(q.Kernel()), q.F4), int(q.K*q.Blocks()*q.C), pushBytes(q), binds), nil
}

// planWinogradOutput is one 1-D pass over the tiles and channels, of
// module winograd_output4 for F(4x4,3x3) (F4).
func (d *Device) planWinogradOutput(q backend.WinogradOutput, binds []binding) ([]*pass, error) {
	return d.onePass(f4Module(string(q.Kernel()), q.F4), q.Tiles()*int(q.K), pushBytes(q), binds), nil
}

// f4Module is module, or its F(4x4,3x3) (F(3x3,4x4)) module module+"4"
// when f4 != 0:
// the transforms whose F(4x4,3x3) code is a module of its own, so that
// the other algorithms' module keeps its code (on lavapipe the filter and
// output transforms of F(2x2,3x3) ran up to 2x slower with F(4x4,3x3)'s
// code beside theirs in one module).
func f4Module(module string, f4 uint32) string {
	if f4 != 0 {
		return module + "4"
	}
	return module
}

// planWinogradDy is one 1-D pass over the tiles and channels (its vec4
// form where winogradDyVec4 admits it; the winograd_dy4 modules for
// F(3x3,4x4)); the shader's ym binding is dy (unread) without MaskRelu.
func (d *Device) planWinogradDy(q backend.WinogradDy, binds []binding) ([]*pass, error) {
	binds = withMask(binds, 2, 0)
	module := f4Module("winograd_dy", q.F4)
	if d.winogradDyVec4(q, binds) {
		return d.onePass(module+"_vec4", q.Tiles()*int(q.K)/4, pushBytes(q), binds), nil
	}
	return d.onePass(module, q.Tiles()*int(q.K), pushBytes(q), binds), nil
}

// planWinogradDw is one 1-D pass over the blocks of the channel pairs, of
// module winograd_dw4 for F(3x3,4x4) (F4).
func (d *Device) planWinogradDw(q backend.WinogradDw, binds []binding) ([]*pass, error) {
	return d.onePass(f4Module(string(q.Kernel()), q.F4), int(q.K*q.Blocks()*q.C), pushBytes(q), binds), nil
}

// withMask is binds with the ReLU output y of a kernel's MaskRelu at index
// i: binds itself when y is there, else binds[dy], read-only, in its place
// (the shader reads it only with MaskRelu).
func withMask(binds []binding, i, dy int) []binding {
	if len(binds) > i {
		return binds
	}
	y := binds[dy]
	y.write = false
	return append(append([]binding(nil), binds...), y)
}

// planSoftmaxXent plans softmax_xent as one work-group, so the mean loss and
// the correct count are reduced deterministically.
func (d *Device) planSoftmaxXent(q backend.SoftmaxXent, binds []binding) ([]*pass, error) {
	return []*pass{{module: "softmax_xent", spec: []uint32{d.wg1()}, groups: [3]uint32{1, 1, 1},
		push: pushBytes(q), binds: binds}}, nil
}

// planResize binds the device's horizontal-pass table after src and dst.
func (d *Device) planResize(q backend.ResizeBilinear, binds []binding) ([]*pass, error) {
	tab, err := d.resizeTable(q)
	if err != nil {
		return nil, err
	}
	return d.onePass("resize_bilinear", int(q.N*q.OutH*q.OutW), pushBytes(q), append(binds, binding{b: tab, elems: tab.n})), nil
}

// planBwdFilter splits the reduction over N*OH*OW into the configuration's
// splits, or by autoSplits when it gives 0, adding a reduce pass; with
// fwd=1 it plans the forward form (planBwdFilterForward).
func (d *Device) planBwdFilter(q backend.Conv2DBwdFilter, binds []binding) ([]*pass, error) {
	k, cols := int(q.K), int(q.C*q.R*q.S)+1
	c := d.tileFor(k, cols)
	if c.fwd != 0 {
		return d.planBwdFilterForward(q, c, binds)
	}
	splits := int(c.splits)
	if splits == 0 {
		splits = d.autoSplits(q, c)
	} else if uint64(splits*k*cols)*4 > d.maxRange() {
		return nil, fmt.Errorf("splits=%d: the partial sums exceed the device's maxStorageBufferRange %d", splits, d.maxRange())
	}
	g, err := gemmGroups(c, k, cols, splits)
	if err != nil {
		return nil, err
	}
	dw, db, y := binds[2], binds[3], withMask(binds, 4, 1)[4]
	ops := d.texelOperands(backend.KConv2DBwdFilter, c, binds, 0, 1)
	if c.tx == 1 {
		y.texel = 1 // the ReLU mask, read as dy is
	}
	if splits == 1 {
		// partial is not written with one split; bind dw in its place.
		return []*pass{{module: c.module("conv2d_bwd_filter"), spec: c.spec(), groups: g, push: pushBytes(q),
			binds: []binding{ops[0], ops[1], dw, db, dw, y}}}, nil
	}
	part, err := d.scratchBuffer("conv2d_bwd_filter", splits*k*cols)
	if err != nil {
		return nil, err
	}
	pb := binding{b: part, elems: splits * k * cols, write: true}
	main := &pass{module: c.module("conv2d_bwd_filter"), spec: c.spec(), groups: g, push: pushBytes(q),
		binds: []binding{ops[0], ops[1], dw, db, pb, y}}
	type reducePush struct {
		backend.Conv2DBwdFilter
		Splits uint32
	}
	pb.write = false
	reduce := &pass{module: "conv2d_bwd_filter_reduce", spec: []uint32{d.wg1()}, groups: d.groups1D(k * cols),
		push: pushBytes(reducePush{q, uint32(splits)}), binds: []binding{pb, dw, db}}
	return []*pass{main, reduce}, nil
}

// autoSplits is the default split-K count of conv2d_bwd_filter with tiling
// c: enough splits of the reduction over N*OH*OW to fill the device when the
// K x (C*R*S+1) result has too few tiles, at least 4 slabs per split, at
// most 64 splits, and 1 when the partial sums would not fit
// maxStorageBufferRange.
func (d *Device) autoSplits(q backend.Conv2DBwdFilter, c tileCfg) int {
	k, cols := int(q.K), int(q.C*q.R*q.S)+1
	l := int(q.N * q.OH * q.OW)
	tiles := ceilDiv(k, int(c.tm)) * ceilDiv(cols, int(c.tn))
	splits := 1
	if target := d.parallelGroups(); tiles < target {
		splits = min(ceilDiv(target, tiles), ceilDiv(l, 4*int(c.tk)), 64)
	}
	if splits > 1 {
		chunk := ceilDiv(ceilDiv(l, splits), int(c.tk)) * int(c.tk)
		splits = ceilDiv(l, chunk)
	}
	if splits > 1 && uint64(splits*k*cols)*4 > d.maxRange() {
		splits = 1
	}
	return splits
}

// planBiasGrad sums column chunks of rows in parallel when there are many
// rows and few columns, adding a reduce pass. The shader's y binding is dy
// (unread) without MaskRelu.
func (d *Device) planBiasGrad(q backend.BiasGrad, binds []binding) ([]*pass, error) {
	rows, cols := int(q.Rows), int(q.Cols)
	g := d.groups1D(cols)
	splits := 1
	if rows > 1024 && int(g[0]) < d.parallelGroups() {
		splits = min(ceilDiv(rows, 256), ceilDiv(d.parallelGroups(), int(g[0])), 64)
	}
	if uint64(splits*cols)*4 > d.maxRange() {
		splits = 1
	}
	dy, db, y := binds[0], binds[1], withMask(binds, 2, 0)[2]
	if splits == 1 {
		return []*pass{{module: "bias_grad", spec: []uint32{d.wg1()}, groups: g, push: pushBytes(q),
			binds: []binding{dy, db, db, y}}}, nil
	}
	part, err := d.scratchBuffer("bias_grad", splits*cols)
	if err != nil {
		return nil, err
	}
	g[1] = uint32(splits)
	type reducePush struct {
		backend.BiasGrad
		Splits uint32
	}
	main := &pass{module: "bias_grad", spec: []uint32{d.wg1()}, groups: g, push: pushBytes(q),
		binds: []binding{dy, db, {b: part, elems: splits * cols, write: true}, y}}
	reduce := &pass{module: "bias_grad_reduce", spec: []uint32{d.wg1()}, groups: d.groups1D(cols),
		push: pushBytes(reducePush{q, uint32(splits)}), binds: []binding{{b: part, elems: splits * cols}, db}}
	return []*pass{main, reduce}, nil
}

// countPush is count_nonfinite's push constant block: the params and
// whether the pass adds to out[Slot] (a window after the first) instead of
// writing it.
type countPush struct {
	P          backend.CountNonfinite
	Accumulate uint32
}

// planCountNonfinite plans count_nonfinite as one work-group writing
// out[Slot].
func (d *Device) planCountNonfinite(q backend.CountNonfinite, binds []binding) ([]*pass, error) {
	return []*pass{d.countNonfinitePass(q, binds, false)}, nil
}

// countNonfinitePass is one count_nonfinite pass (one work-group) over
// binds, adding to out[Slot] when accumulate is set.
func (d *Device) countNonfinitePass(q backend.CountNonfinite, binds []binding, accumulate bool) *pass {
	acc := uint32(0)
	if accumulate {
		acc = 1
	}
	return &pass{module: "count_nonfinite", spec: []uint32{d.wg1()}, groups: [3]uint32{1, 1, 1},
		push: pushBytes(countPush{q, acc}), binds: binds}
}
