package vulkan

import (
	"fmt"
	"strings"

	"github.com/crossgrad/crossgrad/backend"
)

// tileCfg is one configuration of the tile engine (gemm_tile.glsl): a
// work-group of wx x wy invocations computes a tm x tn tile of C, each
// invocation an rm x rn block (rm = tm/wy, rn = tn/wx), tk k-steps per
// shared-memory slab (staged) or per unrolled loop trip (direct). direct
// selects the path without shared memory and barriers; vw is its width of
// B loads (1 or 4, gemm only); sg makes its subgroups share the rows of A by
// broadcast (the <kernel>_sg module); splits is conv2d_bwd_filter's split-K
// count, 0 for the automatic choice; tx reads the operands A and B as
// uniform texel buffers (the <kernel>_tx module: CPU drivers fetch texels
// with vector gathers where they load a storage buffer lane by lane); fwd
// runs a stride-1 conv2d_bwd_data or conv2d_bwd_filter as conv2d_fwd's
// product with this tiling (bwd_data_fwd.go, bwd_filter_fwd.go). It is the one source of every tiling number: the
// specialization constants come from spec.
type tileCfg struct {
	wx, wy, tm, tn, tk uint32
	direct, vw, sg     uint32
	splits             uint32
	tx                 uint32
	fwd                uint32
}

// staged is a shared-memory configuration.
func staged(wx, wy, tm, tn, tk uint32) tileCfg {
	return tileCfg{wx: wx, wy: wy, tm: tm, tn: tn, tk: tk, vw: 1}
}

// texelCfg is a direct configuration with texel loads of one row of wx
// invocations with an rm x rn block each.
func texelCfg(wx, rm, rn, tk, vw uint32) tileCfg {
	c := directCfg(wx, rm, rn, tk, vw, 0)
	c.tx = 1
	return c
}

// directCfg is a direct configuration of one row of wx invocations with an
// rm x rn block each.
func directCfg(wx, rm, rn, tk, vw, sg uint32) tileCfg {
	return tileCfg{wx: wx, wy: 1, tm: rm, tn: rn * wx, tk: tk, direct: 1, vw: vw, sg: sg}
}

// spec is the specialization constants 0..6 of gemm_tile.glsl.
func (c tileCfg) spec() []uint32 { return []uint32{c.wx, c.wy, c.tm, c.tn, c.tk, c.direct, c.vw} }

// module is the shader module of kernel module base for c.
func (c tileCfg) module(base string) string {
	switch {
	case c.sg != 0:
		return base + "_sg"
	case c.tx != 0:
		return base + "_tx"
	}
	return base
}

// tileNames are the names of a Vulkan TileConfig, in order.
var tileNames = []string{"wx", "wy", "tm", "tn", "tk", "direct", "vw", "sg", "splits", "tx", "fwd"}

// fields are pointers to c's values in tileNames order.
func (c *tileCfg) fields() []*uint32 {
	return []*uint32{&c.wx, &c.wy, &c.tm, &c.tn, &c.tk, &c.direct, &c.vw, &c.sg, &c.splits, &c.tx, &c.fwd}
}

// optionalTile reports whether tileNames[i] is a name that a configuration
// may leave out (meaning 0), and that its text leaves out when 0 (tx, fwd):
// the configurations of the storage-buffer engine read as they did before
// texel loads.
func optionalTile(i int) bool { return i >= indexOf(tileNames, "tx") }

// config is c as text.
func (c tileCfg) config() backend.TileConfig {
	ps := make([]backend.TileParam, 0, len(tileNames))
	for i, f := range c.fields() {
		if *f != 0 || !optionalTile(i) {
			ps = append(ps, backend.TileParam{Name: tileNames[i], Value: int(*f)})
		}
	}
	return backend.FormatTile(ps...)
}

// String describes the tiling for logs.
func (c tileCfg) String() string { return string(c.config()) }

// parseTile reads a Vulkan TileConfig: the names of tileNames, each once
// (the optional ones may be left out), with values from 0 to 65535.
func parseTile(t backend.TileConfig) (tileCfg, error) {
	ps, err := backend.ParseTile(t)
	if err != nil {
		return tileCfg{}, err
	}
	var c tileCfg
	fs := c.fields()
	seen := make([]bool, len(tileNames))
	for _, p := range ps {
		i := indexOf(tileNames, p.Name)
		if i < 0 {
			return tileCfg{}, fmt.Errorf("vulkan tile configuration %q: unknown name %q (the names are %s)", t, p.Name, strings.Join(tileNames, ", "))
		}
		if p.Value < 0 || p.Value > maxGroups {
			return tileCfg{}, fmt.Errorf("vulkan tile configuration %q: %s=%d is out of range 0..%d", t, p.Name, p.Value, maxGroups)
		}
		*fs[i] = uint32(p.Value)
		seen[i] = true
	}
	var missing []string
	for i, ok := range seen {
		if !ok && !optionalTile(i) {
			missing = append(missing, tileNames[i])
		}
	}
	if len(missing) > 0 {
		return tileCfg{}, fmt.Errorf("vulkan tile configuration %q: missing %s (a configuration names all of %s)", t, strings.Join(missing, ", "), strings.Join(tileNames, ", "))
	}
	return c, nil
}

func indexOf(names []string, s string) int {
	for i, n := range names {
		if n == s {
			return i
		}
	}
	return -1
}

// maxBlock bounds the direct path's register block (rm*rn outputs per
// invocation): the unrolled shader grows with it.
const maxBlock = 256

// maxSplits bounds conv2d_bwd_filter's split-K count.
const maxSplits = 256

// check reports why the device cannot run c at all, or nil.
func (d *Device) checkCfg(c tileCfg) error {
	l := d.limits
	switch {
	case c.wx == 0 || c.wy == 0 || c.tm == 0 || c.tn == 0 || c.tk == 0:
		return fmt.Errorf("wx, wy, tm, tn and tk must be positive")
	case c.wx*c.wy > l.MaxComputeWorkGroupInvocations:
		return fmt.Errorf("work-group %dx%d has %d invocations, over the device's maxComputeWorkGroupInvocations %d", c.wx, c.wy, c.wx*c.wy, l.MaxComputeWorkGroupInvocations)
	case c.wx > l.MaxComputeWorkGroupSize[0] || c.wy > l.MaxComputeWorkGroupSize[1]:
		return fmt.Errorf("work-group %dx%d exceeds the device's maxComputeWorkGroupSize %dx%d", c.wx, c.wy, l.MaxComputeWorkGroupSize[0], l.MaxComputeWorkGroupSize[1])
	case c.tm%c.wy != 0 || c.tn%c.wx != 0:
		return fmt.Errorf("tile %dx%d is not a multiple of the work-group %dx%d (tm of wy, tn of wx)", c.tm, c.tn, c.wy, c.wx)
	case c.direct > 1 || c.sg > 1 || c.tx > 1 || c.fwd > 1:
		return fmt.Errorf("direct, sg, tx and fwd must be 0 or 1")
	case c.tx == 1 && c.sg != 0:
		return fmt.Errorf("tx=1 (texel loads) has no subgroup variant: it needs sg=0 (on lavapipe the broadcasts cost more than the texel fetches of A they save)")
	case c.vw != 1 && c.vw != 4:
		return fmt.Errorf("vw=%d: the load width must be 1 or 4", c.vw)
	case c.splits > maxSplits:
		return fmt.Errorf("splits=%d: at most %d", c.splits, maxSplits)
	}
	if c.direct == 0 {
		if c.vw != 1 || c.sg != 0 {
			return fmt.Errorf("vw=%d sg=%d: the staged path (direct=0) loads single elements without subgroups (vw=1 sg=0)", c.vw, c.sg)
		}
		if shared := 4 * c.tk * (c.tm + 1 + c.tn + 1); shared > l.MaxComputeSharedMemorySize {
			return fmt.Errorf("staged tiles need %d bytes of shared memory, over the device's maxComputeSharedMemorySize %d", shared, l.MaxComputeSharedMemorySize)
		}
		return nil
	}
	rm, rn := c.tm/c.wy, c.tn/c.wx
	if rm*rn > maxBlock {
		return fmt.Errorf("register block %dx%d has %d outputs per invocation, over %d", rm, rn, rm*rn, maxBlock)
	}
	if rn%c.vw != 0 {
		return fmt.Errorf("vw=%d does not divide the %d columns per invocation", c.vw, rn)
	}
	if c.sg != 0 {
		sg := d.subgroup()
		if sg.stages&subgroupCompute == 0 || sg.ops&subgroupBallot == 0 || sg.size < 8 {
			return fmt.Errorf("sg=1 needs subgroup ballot operations in compute shaders with at least 8 lanes (device: size %d, operations %#x)", sg.size, sg.ops)
		}
		if c.wx%sg.size != 0 || rm%8 != 0 {
			return fmt.Errorf("sg=1 needs wx a multiple of the subgroup size %d and rows per invocation a multiple of 8 (wx=%d, %d rows)", sg.size, c.wx, rm)
		}
	}
	return nil
}

// subgroup is the device's subgroup properties (zero without a physical
// device, as in planning tests).
func (d *Device) subgroup() subgroupProps {
	if d.phys == nil {
		return subgroupProps{}
	}
	return d.phys.subgroup
}

// Vulkan flag bits the subgroup check reads.
const (
	subgroupCompute = 0x20 // VK_SHADER_STAGE_COMPUTE_BIT
	subgroupBallot  = 0x8  // VK_SUBGROUP_FEATURE_BALLOT_BIT
)

// tileDims is the m x n product of a tiled dispatch and whether p is split
// into windows (a buffer past maxStorageBufferRange), whose products are
// smaller.
func (d *Device) tileDims(p backend.Params) (m, n int, windows bool) {
	for _, s := range p.BufferSizes() {
		windows = windows || uint64(s)*4 > d.maxRange()
	}
	switch q := p.(type) {
	case backend.Gemm:
		return int(q.M), int(q.N), windows
	case *backend.Gemm:
		return int(q.M), int(q.N), windows
	}
	g, _ := backend.ConvShapeOf(p)
	switch p.Kernel() {
	case backend.KConv2DFwd:
		return int(g.K), g.YLen() / int(g.K), windows
	case backend.KConv2DBwdData:
		return int(g.C), int(g.N) * ceilDiv(int(g.H), int(g.StrideH)) * ceilDiv(int(g.W), int(g.StrideW)), windows
	default:
		return int(g.K), int(g.C*g.R*g.S) + 1, windows
	}
}

// bigDirectBlock is the register block (outputs per invocation) from which
// a direct configuration is refused for products narrower than half its
// work-group row: on lavapipe a 32x8 block of conv 384->384 3x3 over 3x3
// maps (9 columns) took 19 s against the default's 1.2 s, a 16x8 one 6.4 s.
const bigDirectBlock = 128

// wideTile is the tile side from which a tiling is refused for products
// less than half as long on that side (the GPU-range 8x256 tiling took
// 8.8 s on lavapipe where the default took 0.4 s, for 9 columns).
const wideTile = 256

// wasteful reports why c, which the device can run, would be a poor
// choice for dispatch p (mostly idle lanes or padding, measured 5-20x
// slower than the default on lavapipe), or nil. Only the choice of a
// configuration at p's real shape asks (TileCandidates, CheckTile): a
// configuration checked for correctness on the tuner's small cases
// (DispatchTile) runs them.
func (d *Device) wasteful(p backend.Params, c tileCfg) error {
	m, n, _ := d.tileDims(p)
	if c.direct == 1 && c.tm*c.tn/c.wx >= bigDirectBlock && n < int(c.tn)/2 {
		return fmt.Errorf("a direct block of %dx%d per invocation needs at least %d columns (half a work-group row), not %d: most lanes would idle and the default tiling is faster", c.tm, c.tn/c.wx, c.tn/2, n)
	}
	if (c.tn >= wideTile && n < int(c.tn)/2) || (c.tm >= wideTile && m < int(c.tm)/2) {
		return fmt.Errorf("a %dx%d tile over a %dx%d product would compute mostly padding: the default tiling is faster", c.tm, c.tn, m, n)
	}
	return nil
}

// checkFor reports why the device cannot run dispatch p with c, or nil.
func (d *Device) checkFor(p backend.Params, c tileCfg) error {
	if err := d.checkCfg(c); err != nil {
		return err
	}
	if c.fwd != 0 {
		f, err := forwardForm(p)
		if err != nil {
			return err
		}
		if c.splits != 0 {
			return fmt.Errorf("splits=%d: the forward form (fwd=1) does not split its reduction (use splits=0)", c.splits)
		}
		_, _, windows := d.tileDims(p)
		_, _, fwdWindows := d.tileDims(f)
		if windows || fwdWindows {
			return fmt.Errorf("fwd=1: %s %s or its forward form %s needs a buffer past maxStorageBufferRange (the gather form splits it into windows)", p.Kernel(), p.Shape(), f.Shape())
		}
		c.fwd = 0
		return d.checkFor(f, c)
	}
	k := p.Kernel()
	if c.vw == 4 {
		if err := vec4Aligned(p, c); err != nil {
			return err
		}
	}
	if c.splits != 0 && k != backend.KConv2DBwdFilter {
		return fmt.Errorf("splits=%d: only conv2d_bwd_filter splits its reduction (use splits=0)", c.splits)
	}
	m, n, windows := d.tileDims(p)
	if c.tx == 1 {
		if windows {
			return fmt.Errorf("tx=1: %s %s is split into windows (a buffer past maxStorageBufferRange), which read storage buffers", k, p.Shape())
		}
		for i, sz := range p.BufferSizes()[:2] {
			if f := texelFloats(k, c, i); uint64(sz)*4 > d.maxTexelRange(f) {
				return fmt.Errorf("tx=1: operand %d (%d floats) exceeds the device's maxTexelBufferElements %d (%d floats per texel)", i, sz, d.limits.MaxTexelBufferElements, f)
			}
		}
		if err := convTexelDivisions(p); err != nil {
			return err
		}
	}
	if !windows {
		if _, err := gemmGroups(c, m, n, 1); err != nil {
			return err
		}
	}
	if c.splits > 1 && uint64(int(c.splits)*m*n)*4 > d.maxRange() {
		return fmt.Errorf("splits=%d: the partial sums (%d bytes) exceed the device's maxStorageBufferRange %d", c.splits, int(c.splits)*m*n*4, d.maxRange())
	}
	return nil
}

// vec4Aligned reports why p cannot run c's 4-wide loads (vw=4), or nil:
// only gemm has them, and each operand's loads run along a dimension that
// must be a multiple of 4: A along K (along M when TransA, which also needs
// the rows per invocation a multiple of 4), B along N (along K when
// TransB).
func vec4Aligned(p backend.Params, c tileCfg) error {
	if p.Kernel() == backend.KConv2DFwd {
		return convFwdVec4(p, c)
	}
	q, err := backend.ParamsAs[backend.Gemm](p)
	if err != nil {
		return fmt.Errorf("vw=4: only gemm and conv2d_fwd have 4-wide loads, not %s", p.Kernel())
	}
	a, an, aw := "K", q.K, "A along K"
	if q.TransA != 0 {
		a, an, aw = "M", q.M, "A^T along M"
		if (c.tm/c.wy)%4 != 0 {
			return fmt.Errorf("vw=4: A^T is loaded four rows at a time, so the %d rows per invocation must be a multiple of 4 (%s)", c.tm/c.wy, p.Shape())
		}
	}
	b, bn, bw := "N", q.N, "B along N"
	if q.TransB != 0 {
		b, bn, bw = "K", q.K, "B^T along K"
	}
	for _, x := range []struct {
		name string
		n    uint32
	}{{a, an}, {b, bn}} {
		if x.n%4 != 0 {
			return fmt.Errorf("vw=4 loads %s and %s four at a time: %s=%d is not a multiple of 4 (%s)", aw, bw, x.name, x.n, p.Shape())
		}
	}
	return nil
}

// convFwdVec4 reports why conv2d_fwd p cannot run c's 4-wide loads, or
// nil: they read the filter four reduction steps (c, r, s) at a time from a
// texel buffer (tx=1), so C*R*S must be a multiple of 4; the input is
// gathered one element at a time.
func convFwdVec4(p backend.Params, c tileCfg) error {
	g, _ := backend.ConvShapeOf(p)
	if c.tx == 0 {
		return fmt.Errorf("vw=4: conv2d_fwd has 4-wide loads only with texel loads (tx=1)")
	}
	if crs := g.C * g.R * g.S; crs%4 != 0 {
		return fmt.Errorf("vw=4 loads the filter four elements at a time along C*R*S: %d is not a multiple of 4 (%s)", crs, p.Shape())
	}
	return nil
}

// texelFloats is the floats per texel of operand i (0 or 1) of dispatch p
// with texel configuration c: c.vw, except conv2d_fwd's input (operand 0),
// which is gathered one float at a time.
func texelFloats(k backend.Kernel, c tileCfg, i int) uint8 {
	if k == backend.KConv2DFwd && i == 0 {
		return 1
	}
	return uint8(c.vw)
}

// gemmTrans is the TRANS specialization constant of a gemm with 4-wide
// loads (gemm_tile_spec.glsl): bit 0 TransA, bit 1 TransB.
func gemmTrans(q backend.Gemm) uint32 {
	var t uint32
	if q.TransA != 0 {
		t |= 1
	}
	if q.TransB != 0 {
		t |= 2
	}
	return t
}

// texelDivLimit bounds the dividends of a convolution's texel variant,
// which divides its indices through float reciprocals (udiv in
// shaders/vulkan/common.glsl, exact below 2^22; half that leaves room for
// the tiles' padding).
const texelDivLimit = 1 << 21

// convTexelDivisions reports why the texel variant of convolution p would
// divide an index past texelDivLimit (its reduction length C*R*S+1 or
// K*R*S, its columns N*OH*OW or N*H*W), or nil; gemm divides nothing.
func convTexelDivisions(p backend.Params) error {
	g, ok := backend.ConvShapeOf(p)
	if !ok {
		return nil
	}
	for _, v := range []struct {
		what string
		n    uint64
	}{
		{"C*R*S+1", uint64(g.C)*uint64(g.R)*uint64(g.S) + 1},
		{"K*R*S", uint64(g.K) * uint64(g.R) * uint64(g.S)},
		{"N*OH*OW", uint64(g.N) * uint64(g.OH) * uint64(g.OW)},
		{"N*H*W", uint64(g.N) * uint64(g.H) * uint64(g.W)},
	} {
		if v.n >= texelDivLimit {
			return fmt.Errorf("tx=1: %s = %d reaches %d, past which the texel variants' float-reciprocal index divisions are not exact (use a storage-buffer configuration, tx=0)", v.what, v.n, texelDivLimit)
		}
	}
	return nil
}
