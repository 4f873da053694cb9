package opencl

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

func init() {
	for _, k := range []backend.Kernel{backend.KConv2DFwd, backend.KConv2DBwdData, backend.KConv2DBwdFilter} {
		registerLauncher(k, func(d *Device, p backend.Params, bufs []*Buffer) error {
			return d.runTile(d.tileFor(p), p, bufs)
		})
	}
}

// convFwdWith runs conv2d_fwd as an implicit GEMM of K x (N*OH*OW) with
// tiling t. The CPU bodies first transpose the weights into the device's
// scratch buffer (conv2d_fwd_wt) so that weight slabs are vector copies.
// Buffers: x, w, b, y.
func (d *Device) convFwdWith(t tiling, q backend.Conv2DFwd, bufs []*Buffer) error {
	name, err := d.tiledKernel(backend.KConv2DFwd, t)
	if err != nil {
		return err
	}
	global, local := t.global(int(q.K), int(q.N*q.OH*q.OW), 1)
	if !t.cpu {
		return d.enqueue(backend.KConv2DFwd, name, global, local, q, bufs[0], bufs[1], bufs[2], bufs[3])
	}
	wt, err := d.scratchBuffer(q.WLen())
	if err != nil {
		return fmt.Errorf("opencl: conv2d_fwd: %w", err)
	}
	if err := d.enqueue(backend.KConv2DFwd, "conv2d_fwd_wt", []int{(q.WLen() + 63) / 64 * 64}, []int{64}, q, bufs[1], wt); err != nil {
		return err
	}
	return d.enqueue(backend.KConv2DFwd, name, global, local, q, bufs[0], bufs[1], bufs[2], bufs[3], wt)
}

// tilingFwdCPU128 is a wider CPU tiling of conv2d_fwd: 128x64 tiles of
// 128-deep slabs, 16x2 work-items of 8x32 outputs; every gathered x slab
// is shared by more rows of w.
var tilingFwdCPU128 = tiling{name: "fwd_cpu128", mwg: 128, nwg: 64, kwg: 128, mdimc: 16, ndimc: 2, vw: 16, lvw: 16, cpu: true}

// fwdTiling picks the tiling of conv2d_fwd over k output channels: on CPUs
// the 96-row one (tilingCPU96) for k = 96 or the 128-row one
// (tilingFwdCPU128) for at least 128 channels when it pads k no more than
// the 64-row one, else t.
func fwdTiling(t tiling, k int) tiling {
	pad := func(m int) int { return (k + m - 1) / m * m }
	if t != tilingCPU {
		return t
	}
	if k >= tilingFwdCPU128.mwg && pad(tilingFwdCPU128.mwg) <= pad(tilingCPU.mwg) {
		return tilingFwdCPU128
	}
	if k > tilingCPU.mwg && pad(tilingCPU96.mwg) < pad(tilingCPU.mwg) {
		return tilingCPU96
	}
	return t
}

// tilingCPU96 is a wider CPU tiling of conv2d_fwd and conv2d_bwd_data:
// 96x64 tiles of 64-deep slabs, 8x2 work-items of 12x32 outputs, for
// channel counts that 96-row tiles fill at least as well as 64-row ones
// (AlexNet's conv2: C = 96, one tile of channels per pixel tile, so each
// dy slab is gathered once instead of twice; C = 384: each gathered slab
// serves 96 rows).
var tilingCPU96 = tiling{name: "cpu96", mwg: 96, nwg: 64, kwg: 64, mdimc: 8, ndimc: 2, vw: 16, lvw: 16, cpu: true}

// bwdDataTiling picks the tiling of conv2d_bwd_data over c channels: on
// CPUs the 96-row one unless it pads c more than the 64-row one (c = 96:
// one tile instead of two with a third of the rows wasted; c = 384: the
// same padding and fewer dy gathers; c = 256 runs faster on 64 rows),
// else t.
func bwdDataTiling(t tiling, c int) tiling {
	pad := func(m int) int { return (c + m - 1) / m * m }
	if t == tilingCPU && pad(tilingCPU96.mwg) <= pad(tilingCPU.mwg) {
		return tilingCPU96
	}
	return t
}

// tilingCPU128 is a wider CPU tiling of conv2d_bwd_filter: 128x64 tiles of
// 64-deep slabs, 16x2 work-items of 8x32 outputs; every gathered x slab is
// shared by twice as many rows of dy as with tilingCPU.
var tilingCPU128 = tiling{name: "cpu128", mwg: 128, nwg: 64, kwg: 64, mdimc: 16, ndimc: 2, vw: 16, lvw: 16, cpu: true}

// bwdFilterTiling picks the tiling of conv2d_bwd_filter over k output
// channels: on CPUs the 128-row one for at least 128 channels unless it
// pads k more than the 64-row one, else t (AlexNet's conv1, K = 96, runs
// faster on 64-row tiles).
func bwdFilterTiling(t tiling, k int) tiling {
	pad := func(m int) int { return (k + m - 1) / m * m }
	if t == tilingCPU && k >= tilingCPU128.mwg && pad(tilingCPU128.mwg) <= pad(tilingCPU.mwg) {
		return tilingCPU128
	}
	return t
}

// directBwdDataMaxC is the channel count below which conv2d_bwd_data runs
// the direct kernel: a tile of fewer rows than a quarter of its height
// wastes most of its work.
const directBwdDataMaxC = 16

// convBwdDataWith runs conv2d_bwd_data with tiling t as an implicit GEMM of
// C x (pixels of one stride phase), one phase per index of dimension 2 (the
// default configuration runs the direct kernel instead when C is small, see
// directBwdDataMaxC). With stride 1 and at least one full tile of channels,
// the weights are first transposed into the device's scratch buffer
// (conv2d_bwd_data_wt) so that the tiled kernel copies them with vector
// loads. Buffers: dy, w, dx and, with MaskRelu, y (the kernel's ym; dy in
// its place without).
func (d *Device) convBwdDataWith(t tiling, q backend.Conv2DBwdData, bufs []*Buffer) error {
	sh, sw := int(q.StrideH), int(q.StrideW)
	cols := int(q.N) * ((int(q.H) + sh - 1) / sh) * ((int(q.W) + sw - 1) / sw)
	name, err := d.tiledKernel(backend.KConv2DBwdData, t)
	if err != nil {
		return err
	}
	global, local := t.global(int(q.C), cols, 1)
	global, local = append(global, sh*sw), append(local, 1)
	ym := withMask(bufs, 3, 0)[3]
	if sh != 1 || sw != 1 || q.C < uint32(t.mwg) {
		// wt is unused: pass w in its place.
		return d.enqueue(backend.KConv2DBwdData, name, global, local, q, bufs[0], bufs[1], bufs[2], bufs[1], uint32(0), ym)
	}
	wt, err := d.scratchBuffer(q.WLen())
	if err != nil {
		return fmt.Errorf("opencl: conv2d_bwd_data: %w", err)
	}
	if err := d.enqueue(backend.KConv2DBwdData, "conv2d_bwd_data_wt", []int{q.WLen()}, []int{64}, q, bufs[1], wt); err != nil {
		return err
	}
	return d.enqueue(backend.KConv2DBwdData, name, global, local, q, bufs[0], bufs[1], bufs[2], wt, uint32(1), ym)
}

// convBwdDataDirect runs conv2d_bwd_data_direct, one work-item per dx
// element. Buffers: dy, w, dx and, with MaskRelu, y.
func (d *Device) convBwdDataDirect(q backend.Conv2DBwdData, bufs []*Buffer) error {
	return d.enqueue(backend.KConv2DBwdData, "conv2d_bwd_data_direct", []int{q.XLen()}, []int{64}, q, bufs[0], bufs[1], bufs[2],
		withMask(bufs, 3, 0)[3])
}

// Split-K of conv2d_bwd_filter: aim at splitGroupsPerCU work-groups per
// compute unit, each split covering at least splitMinSlabs slabs, at most
// maxSplits splits. On CPUs, when dy and x together exceed splitCacheMin
// bytes, the reduction is also cut into chunks whose operands (dy and x
// over the chunk's pixels, splitCacheBytes at most) stay in cache while
// every tile of the split reads them (the splits are the slowest launch
// dimension, so the tiles of one split run together); without it every
// tile streams all of dy and x from memory. Those splits keep their
// partial sums under splitPartMax elements.
const (
	splitGroupsPerCU = 4
	splitMinSlabs    = 8
	maxSplits        = 64
	splitCacheBytes  = 2 << 20
	splitCacheMin    = 8 << 20
	splitPartMax     = 1 << 26
)

// bwdFilterSplits chooses the split count and the per-split reduction
// length (a multiple of the slab depth) of a K x cols result reduced over
// red (of a layer with c input channels) on d.
func (d *Device) bwdFilterSplits(t tiling, k, c, cols, red int) (splits, chunk int) {
	tiles := ((k + t.mwg - 1) / t.mwg) * ((cols + t.nwg - 1) / t.nwg)
	target := splitGroupsPerCU * max(d.info.ComputeUnits, 1)
	splits = 1
	if tiles < target {
		splits = min((target+tiles-1)/tiles, maxSplits, max(red/(splitMinSlabs*t.kwg), 1))
	}
	if t.cpu && tiles > 1 && 4*(k+c)*red > splitCacheMin {
		perChunk := max(splitCacheBytes/(4*(k+c)), splitMinSlabs*t.kwg)
		splits = max(splits, min((red+perChunk-1)/perChunk, maxSplits, splitPartMax/(k*cols)))
	}
	chunk = (red + splits - 1) / splits
	chunk = (chunk + t.kwg - 1) / t.kwg * t.kwg
	return (red + chunk - 1) / chunk, chunk
}

// bwdFilterPlan is the split count and per-split reduction length
// conv2d_bwd_filter runs q with on tiling t: force > 0 asks for that many
// splits (fewer when the slabs run out), 0 lets bwdFilterSplits choose.
func (d *Device) bwdFilterPlan(t tiling, q backend.Conv2DBwdFilter, force int) (splits, chunk int) {
	k, cols, red := int(q.K), int(q.C*q.R*q.S)+1, int(q.N*q.OH*q.OW)
	if force <= 0 {
		return d.bwdFilterSplits(t, k, int(q.C), cols, red)
	}
	chunk = ((red+force-1)/force + t.kwg - 1) / t.kwg * t.kwg
	return (red + chunk - 1) / chunk, chunk
}

// convBwdFilterWith runs conv2d_bwd_filter as an implicit GEMM of K x
// (C*R*S+1) (the last column is db) with tiling t, split over the N*OH*OW
// reduction when there are few tiles: forceSplits > 0 asks for that split
// count (a configuration's splits), 0 lets bwdFilterSplits choose. The partial results live in
// the device's scratch buffer (kept until Close). Buffers: x, dy, dw, db
// and, with MaskRelu, y (the kernel's ym; dy in its place without).
func (d *Device) convBwdFilterWith(t tiling, q backend.Conv2DBwdFilter, bufs []*Buffer, forceSplits int) error {
	k, cols := int(q.K), int(q.C*q.R*q.S)+1
	splits, chunk := d.bwdFilterPlan(t, q, forceSplits)
	name, err := d.tiledKernel(backend.KConv2DBwdFilter, t)
	if err != nil {
		return err
	}
	global, local := t.global(k, cols, splits)
	ym := withMask(bufs, 4, 1)[4]
	if splits == 1 {
		// part is unused: pass dw in its place.
		return d.enqueue(backend.KConv2DBwdFilter, name, global, local, q, bufs[0], bufs[1], bufs[2], bufs[3], bufs[2], uint32(1), uint32(chunk), ym)
	}
	n := splits * k * cols
	if n > backend.MaxElements {
		return fmt.Errorf("opencl: conv2d_bwd_filter: %d partial sums exceed the buffer limit", n)
	}
	part, err := d.scratchBuffer(n)
	if err != nil {
		return fmt.Errorf("opencl: conv2d_bwd_filter: %w", err)
	}
	if err := d.enqueue(backend.KConv2DBwdFilter, name, global, local, q, bufs[0], bufs[1], bufs[2], bufs[3], part, uint32(splits), uint32(chunk), ym); err != nil {
		return err
	}
	return d.enqueue(backend.KConv2DBwdFilter, "conv2d_bwd_filter_reduce", []int{k * cols}, []int{64}, q, part, bufs[2], bufs[3], uint32(splits))
}
