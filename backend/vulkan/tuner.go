package vulkan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/shaders"
)

var _ backend.Tuner = (*Device)(nil)

// tiledModules are the shader modules of the tile engine, whose SPIR-V
// TuneIdentity hashes with that of the Winograd transforms
// (backend.WinogradTransforms) and their texel-read forms.
var tiledModules = []string{
	"gemm", "gemm_sg", "gemm_tx", "conv2d_fwd", "conv2d_fwd_sg", "conv2d_fwd_tx",
	"conv2d_bwd_data", "conv2d_bwd_data_sg", "conv2d_bwd_data_tx",
	"conv2d_bwd_filter", "conv2d_bwd_filter_sg", "conv2d_bwd_filter_tx", "conv2d_bwd_filter_reduce",
	"conv2d_filter_flip", "swap_leading", "swap_leading_tx", "conv2d_bwd_filter_unswap",
}

// maxCandidates caps TileCandidates.
const maxCandidates = 48

// modulesHash is the sha256 (hex) of the SPIR-V that read returns for the
// tiled modules and the Winograd transforms in every form (texel reads,
// vec4, F(4x4,3x3); a module read cannot return is hashed as missing).
func modulesHash(read func(name string) ([]byte, error)) string {
	h := sha256.New()
	modules := slices.Clone(tiledModules)
	for _, k := range backend.WinogradTransforms() {
		modules = append(modules, string(k))
		if _, ok := texelReadModules[string(k)+"4"]; ok { // its F(4x4,3x3) module
			modules = append(modules, string(k)+"4")
		}
		for _, form := range []string{string(k), string(k) + "_vec4", string(k) + "4", string(k) + "4_vec4"} {
			if _, ok := texelReadModules[form]; ok {
				modules = append(modules, form+"_tx")
			}
		}
	}
	for _, m := range modules {
		b, err := read("vulkan/" + m + ".spv")
		if err != nil {
			fmt.Fprintf(h, "%s missing\n", m)
			continue
		}
		fmt.Fprintf(h, "%s %d\n", m, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TuneIdentity implements backend.Tuner.
func (d *Device) TuneIdentity() backend.TuneIdentity {
	l := d.limits
	sg := d.subgroup()
	return backend.TuneIdentity{
		Backend: "vulkan",
		Vendor:  d.info.Vendor,
		Device:  d.info.Name,
		Driver:  d.info.DriverVersion,
		Sources: modulesHash(shaders.Vulkan.ReadFile),
		Limits: fmt.Sprintf("maxComputeWorkGroupInvocations=%d maxComputeWorkGroupSize=%dx%dx%d maxComputeSharedMemorySize=%d maxStorageBufferRange=%d subgroupSize=%d subgroupStages=%#x subgroupOperations=%#x",
			l.MaxComputeWorkGroupInvocations, l.MaxComputeWorkGroupSize[0], l.MaxComputeWorkGroupSize[1], l.MaxComputeWorkGroupSize[2],
			l.MaxComputeSharedMemorySize, l.MaxStorageBufferRange, sg.size, sg.stages, sg.ops),
	}
}

// mustTiled panics when p's kernel has no tile engine (a programmer error).
func mustTiled(p backend.Params) {
	if !backend.IsTiled(p.Kernel()) {
		panic(fmt.Sprintf("vulkan: %s is not a tiled kernel", p.Kernel()))
	}
}

// defaultCfg is the configuration an untuned device runs p with: the
// default tiling of its product and, for conv2d_bwd_filter, the automatic
// split count (a dispatch split into windows picks both per window).
func (d *Device) defaultCfg(p backend.Params) tileCfg {
	m, n, _ := d.tileDims(p)
	c := d.tile(m, n)
	if q, err := backend.ParamsAs[backend.Conv2DBwdFilter](p); err == nil {
		c.splits = uint32(d.autoSplits(q, c))
	}
	return c
}

// DefaultTile implements backend.Tuner.
func (d *Device) DefaultTile(p backend.Params) backend.TileConfig {
	mustTiled(p)
	return d.defaultCfg(p).config()
}

// tileSpace is every configuration the tuner may try for kernel k on this
// device before filtering. On CPU devices: the direct path with one row of
// SIMD lanes (the subgroup size, at least 8); for gemm register blocks of 8,
// 16 or 32 rows by 4 or 8 columns, with single and 4-wide loads, 4 k-steps
// unrolled; for the convolutions (whose loads are long and whose shaders
// take seconds to compile per configuration on lavapipe) blocks 8x4 and
// 16x8 with one k-step per trip and 32x8 with four (on lavapipe, for
// cpu-quick's conv.3 at batch 128: 32x8 about 8x faster than the default,
// four k-steps 10-20% faster than one; 16x8 4x, 8x4 2.2x). Blocks of 8 rows or more share A through
// subgroups where the device allows it. Each gemm block with 4-wide loads
// (single ones too for 16x8 and 32x8, for dimensions that are not multiples of 4) and the
// convolutions' 32x8 block (the texel configurations a 5-minute tune of
// cpu-quick chose) also come as texel configurations (tx=1, without
// subgroups), and the convolutions have a 24x8 texel block for 48 or 96
// output channels (lavapipe, cpu-quick's conv.0 at batch 128: forward
// 1.2-1.4x faster than 32x8, which pads 48 rows to 64, the filter gradient
// 1.3x) and, for conv2d_fwd, a 32x8 texel block with 4-wide filter loads
// (cpu-quick's conv.3 and conv.8 forward 1.3-1.4x faster than with single
// loads): on lavapipe (Zen 4) the 1024^3 gemm ran 1.5-2x faster with
// texel loads than with the best storage-buffer block, and a subgroup's
// broadcasts of A over texel loads were slower than texel loads alone.
// conv2d_bwd_data also has its forward form (fwd=1, bwd_data_fwd.go) with
// the 32x8 and 24x8 texel blocks, single and 4-wide filter loads. On GPUs:
// the staged tilings, GPU-range ones (128x128 tiles with 8x8 per
// invocation, 64x64 with 4x4), a few direct ones (no texel configurations:
// nobody here has timed them on a GPU) and, for conv2d_bwd_data, the
// forward form with two staged tilings.
func (d *Device) tileSpace(k backend.Kernel) []tileCfg {
	lanes := max(uint32(8), d.subgroup().size)
	sgFor := func(rm uint32) uint32 {
		if rm >= 8 && d.checkCfg(directCfg(lanes, rm, 4, 1, 1, 1)) == nil {
			return 1
		}
		return 0
	}
	var out []tileCfg
	if d.info.Type == backend.CPUDevice {
		if k != backend.KGemm {
			for _, b := range [][3]uint32{{8, 4, 1}, {16, 8, 1}, {32, 8, 4}} {
				out = append(out, directCfg(lanes, b[0], b[1], b[2], 1, sgFor(b[0])))
			}
			out = append(out, texelCfg(lanes, 32, 8, 4, 1), texelCfg(lanes, 24, 8, 4, 1), texelCfg(lanes, 32, 8, 4, 4))
			if k == backend.KConv2DBwdData || k == backend.KConv2DBwdFilter {
				for _, c := range []tileCfg{texelCfg(lanes, 32, 8, 4, 4), texelCfg(lanes, 24, 8, 4, 4), texelCfg(lanes, 32, 8, 4, 1), texelCfg(lanes, 24, 8, 4, 1)} {
					c.fwd = 1
					out = append(out, c)
				}
			}
			return out
		}
		for _, rm := range []uint32{8, 16, 32} {
			for _, rn := range []uint32{4, 8} {
				for _, vw := range []uint32{1, 4} {
					out = append(out, directCfg(lanes, rm, rn, 4, vw, sgFor(rm)))
				}
				out = append(out, texelCfg(lanes, rm, rn, 4, 4))
				if rn == 8 && rm >= 16 {
					out = append(out, texelCfg(lanes, rm, rn, 4, 1)) // dimensions that are not multiples of 4
				}
			}
		}
		return out
	}
	out = append(out, tileConfigs...)
	out = append(out, staged(16, 16, 128, 128, 8), staged(16, 16, 128, 128, 16), staged(16, 16, 64, 64, 8),
		staged(32, 8, 64, 64, 16), staged(8, 32, 64, 64, 16), staged(16, 16, 32, 32, 16))
	for _, rm := range []uint32{4, 8} {
		out = append(out, directCfg(lanes, rm, 4, 4, 1, 0), directCfg(lanes, rm, 4, 4, 4, 0), directCfg(lanes, rm, 4, 4, 1, sgFor(rm)))
	}
	if k == backend.KConv2DBwdData || k == backend.KConv2DBwdFilter {
		for _, c := range []tileCfg{staged(16, 16, 64, 64, 16), staged(16, 16, 128, 128, 8)} {
			c.fwd = 1
			out = append(out, c)
		}
	}
	return out
}

// tileCost estimates the time of the m x n product with c: padded work
// times one plus the operand loads per multiply-add (a staged slab's loads
// per tile; the direct path's loads per register block, where a 4-wide
// load costs about 1.5 single ones and a subgroup loads 8 rows of A at
// once, and texel loads cost half), more on CPU devices for the staged
// path's barriers, and scaled up when there are too few tiles (times
// layers: the products of a batched gemm) to fill the device. On CPU
// devices a texel load costs a quarter and each subgroup broadcast a
// quarter load: on lavapipe the texel form of a block ran 1.5-2.4x faster
// than its storage-buffer form with subgroups (fc.3's products at batch
// 128, the 1024^3 gemm), so a tune with a short share tries it first.
func (d *Device) tileCost(c tileCfg, m, n, layers int) float64 {
	gm, gn := ceilDiv(m, int(c.tm)), ceilDiv(n, int(c.tn))
	pm, pn := float64(gm*int(c.tm)), float64(gn*int(c.tn))
	rm, rn := float64(c.tm/c.wy), float64(c.tn/c.wx)
	var loads float64
	if c.direct == 0 {
		loads = 16/float64(c.tm) + 16/float64(c.tn)
		if d.info.Type == backend.CPUDevice {
			loads += 4
		}
	} else {
		cpu := d.info.Type == backend.CPUDevice
		a, b := rm, rn
		if c.sg != 0 {
			a = rm / 8
			if cpu {
				a += rm / 4
			}
		}
		if c.vw == 4 {
			b = 1.5 * rn / 4
		}
		loads = 16 * (a + b) / (rm * rn)
		switch {
		case c.tx != 0 && cpu:
			loads /= 4
		case c.tx != 0:
			loads /= 2
		}
	}
	cost := pm * pn * (1 + loads)
	if tiles, target := gm*gn*layers*max(1, int(c.splits)), d.parallelGroups(); tiles < target {
		cost *= float64(target) / float64(tiles)
	}
	return cost
}

// TileCandidates implements backend.Tuner: DefaultTile(p) first, then the
// configurations of tileSpace that p admits by tileCost (conv2d_bwd_filter
// also with 1 and 16 splits for the best), at most maxCandidates.
func (d *Device) TileCandidates(p backend.Params) []backend.TileConfig {
	mustTiled(p)
	m, n, _ := d.tileDims(p)
	var ok []tileCfg
	for _, c := range d.tileSpace(p.Kernel()) {
		if d.checkFor(p, c) == nil && d.wasteful(p, c) == nil {
			ok = append(ok, c)
		}
	}
	layers := 1
	if q, err := backend.ParamsAs[backend.Gemm](p); err == nil {
		layers = q.Batches()
	}
	sort.SliceStable(ok, func(i, j int) bool { return d.tileCost(ok[i], m, n, layers) < d.tileCost(ok[j], m, n, layers) })
	if p.Kernel() == backend.KConv2DBwdFilter {
		for _, c := range ok[:min(1, len(ok))] {
			for _, s := range []uint32{1, 16} {
				if c.splits = s; d.checkFor(p, c) == nil {
					ok = append(ok, c)
				}
			}
		}
	}
	out := []backend.TileConfig{d.DefaultTile(p)}
	for _, c := range ok {
		if t := c.config(); !slices.Contains(out, t) && len(out) < maxCandidates {
			out = append(out, t)
		}
	}
	return out
}

// parseFor parses c and checks it for p; the error names both.
func (d *Device) parseFor(p backend.Params, c backend.TileConfig) (tileCfg, error) {
	cfg, err := parseTile(c)
	if err == nil {
		err = d.checkFor(p, cfg)
	}
	if err != nil {
		return tileCfg{}, fmt.Errorf("vulkan: tile %q for %s %s: %w", c, p.Kernel(), p.Shape(), err)
	}
	return cfg, nil
}

// CheckTile implements backend.Tuner.
func (d *Device) CheckTile(p backend.Params, c backend.TileConfig) error {
	mustTiled(p)
	cfg, err := d.parseFor(p, c)
	if err == nil {
		if err = d.wasteful(p, cfg); err != nil {
			err = fmt.Errorf("vulkan: tile %q for %s %s: %w", c, p.Kernel(), p.Shape(), err)
		}
	}
	return err
}

// DispatchTile implements backend.Tuner.
func (d *Device) DispatchTile(c backend.TileConfig, p backend.Params, bufs ...backend.Buffer) error {
	mustTiled(p)
	cfg, err := d.parseFor(p, c)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.forced = &cfg
	defer func() { d.forced = nil }()
	return d.dispatchLocked(p, bufs)
}

// SetTile implements backend.Tuner.
func (d *Device) SetTile(p backend.Params, c backend.TileConfig) error {
	mustTiled(p)
	key := backend.KeyOf(p)
	var cfg tileCfg
	if c != "" {
		var err error
		if cfg, err = d.parseFor(p, c); err != nil {
			return err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if c == "" {
		delete(d.tiles, key)
		return nil
	}
	if d.tiles == nil {
		d.tiles = map[backend.TuneKey]tileCfg{}
	}
	d.tiles[key] = cfg
	return nil
}

// chosenTile is the configuration p runs with when it is not the default:
// DispatchTile's, else the table's for KeyOf(p) when p admits it (two
// dispatches may share a key), else nil. d.mu is held.
func (d *Device) chosenTile(p backend.Params) *tileCfg {
	if !backend.IsTiled(p.Kernel()) {
		return nil
	}
	if d.forced != nil {
		return d.forced
	}
	if c, ok := d.tiles[backend.KeyOf(p)]; ok && d.checkFor(p, c) == nil {
		return &c
	}
	return nil
}
