package opencl

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"strings"

	"github.com/crossgrad/crossgrad/backend"
)

var _ backend.Tuner = (*Device)(nil)

// tileHelperSources are the kernels the tiled dispatches also run (the
// direct conv2d_bwd_data, the weight transposes, the split-K reduction):
// they are hashed into TuneIdentity with the tiled ones.
var tileHelperSources = []string{"conv2d_bwd_data_direct.cl", "conv2d_bwd_data_wt.cl", "conv2d_bwd_filter_reduce.cl", "conv2d_fwd_wt.cl"}

// sourcesHash is a short sha256 (hex) of the build options and the full
// sources in fsys, includes expanded, of the tiled kernels, their helpers
// and the Winograd transforms (backend.WinogradTransforms).
func sourcesHash(fsys fs.FS) (string, error) {
	var sb strings.Builder
	sb.WriteString(buildOptions + correctlyRoundedOption + "\n")
	files := []string{}
	for _, k := range append(backend.TiledKernels(), backend.WinogradTransforms()...) {
		files = append(files, string(k)+".cl")
	}
	for _, f := range append(files, tileHelperSources...) {
		if err := appendFile(&sb, fsys, f, map[string]bool{}, 0); err != nil {
			return "", err
		}
	}
	sum := sha256.Sum256([]byte(sb.String()))
	return hex.EncodeToString(sum[:8]), nil
}

// TuneIdentity identifies the device (vendor, name, driver version), the
// tiled kernels' sources (Sources: a short sha256, "unreadable: ..." if
// the embedded sources cannot be read) and the limits the candidates
// depend on, but for CL_DEVICE_MAX_MEM_ALLOC_SIZE: PoCL derives it from the
// memory free when the device opens (1, 2 and 4 GiB seen on one machine in
// one session), so in the identity it made the cache miss at random. The
// one candidate parameter it limits, split-K's scratch, is checked per
// entry instead: SetTile refuses an entry beyond it and it is tuned again.
func (d *Device) TuneIdentity() backend.TuneIdentity {
	src, err := sourcesHash(openCLSources())
	if err != nil {
		src = "unreadable: " + err.Error()
	}
	return backend.TuneIdentity{
		Backend: "opencl",
		Vendor:  d.info.Vendor,
		Device:  d.info.Name,
		Driver:  d.info.DriverVersion,
		Sources: src,
		Limits: fmt.Sprintf("type=%s max_work_group=%d work_items=%v local_memory=%d compute_units=%d",
			d.info.Type, d.info.MaxWorkGroupSize, d.maxItems, d.info.LocalMemory, d.info.ComputeUnits),
	}
}

// mustTiled panics when p's kernel is not tiled (a programmer error, see
// backend.Tuner).
func mustTiled(p backend.Params) {
	if !tiledKernels[p.Kernel()] {
		panic(fmt.Sprintf("opencl: %s is not a tiled kernel", p.Kernel()))
	}
}

// defaultTile is the configuration of an untuned device for p: the
// device's tiling (tilingCPU or tilingGPU), widened per channel count for
// the convolutions on CPUs (fwdTiling, bwdDataTiling, bwdFilterTiling),
// conv2d_bwd_data's direct kernel below directBwdDataMaxC channels, and the
// split count of bwdFilterSplits.
func (d *Device) defaultTile(p backend.Params) tileConfig {
	mustTiled(p)
	t := d.tiling()
	switch p.Kernel() {
	case backend.KConv2DFwd:
		q, _ := backend.ParamsAs[backend.Conv2DFwd](p)
		return tileConfig{t: fwdTiling(t, int(q.K))}
	case backend.KConv2DBwdData:
		q, _ := backend.ParamsAs[backend.Conv2DBwdData](p)
		if q.C < directBwdDataMaxC {
			return tileConfig{naive: true}
		}
		return tileConfig{t: bwdDataTiling(t, int(q.C))}
	case backend.KConv2DBwdFilter:
		q, _ := backend.ParamsAs[backend.Conv2DBwdFilter](p)
		return tileConfig{t: bwdFilterTiling(t, int(q.K))}
	}
	return tileConfig{t: t}
}

// DefaultTile is the configuration Dispatch runs p with while no tile is
// set for it: exactly the dispatches of an untuned device.
func (d *Device) DefaultTile(p backend.Params) backend.TileConfig {
	return d.defaultTile(p).text(p.Kernel())
}

// TileCandidates lists the configurations d can run p with: DefaultTile(p)
// first, then the tilings of the space of d's kind (cpuSpace on CPU
// devices, gpuSpace on the others; conv2d_bwd_filter with each split count
// of bwdFilterSplitSpace, conv2d_bwd_data also with its direct kernel)
// that the kernel's bodies and d's limits admit, without configurations
// that run alike, cheapest first by tileCost, at most maxCandidates.
func (d *Device) TileCandidates(p backend.Params) []backend.TileConfig {
	mustTiled(p)
	space := gpuSpace
	if d.info.Type == backend.CPUDevice {
		space = cpuSpace
	}
	return d.tileCandidates(p, space)
}

// checkTile parses c for p and checks it against the kernel's bodies, d's
// limits and the builds that already failed on d.
func (d *Device) checkTile(p backend.Params, c backend.TileConfig) (tileConfig, error) {
	mustTiled(p)
	k := p.Kernel()
	tc, err := parseTile(k, c)
	if err != nil {
		return tileConfig{}, err
	}
	if !tc.naive {
		if err := checkTiling(k, tc.t); err != nil {
			return tileConfig{}, err
		}
		if err := d.tileBuildErrs[tiledKernelKey(k, tc.t)]; err != nil {
			return tileConfig{}, err
		}
	}
	if err := d.checkLimits(p, tc); err != nil {
		return tileConfig{}, err
	}
	return tc, nil
}

// CheckTile reports why d cannot run p with configuration c: unparsable or
// of another backend, a tiling the kernel's bodies do not take, beyond
// d's limits (work-group, local memory, partial sums), or a kernel whose
// build failed on d; nil when it can.
func (d *Device) CheckTile(p backend.Params, c backend.TileConfig) error {
	_, err := d.checkTile(p, c)
	return err
}

// SetTile makes later dispatches with backend.KeyOf(p) run configuration
// c; an empty c restores DefaultTile. It returns CheckTile's error and then
// changes nothing.
func (d *Device) SetTile(p backend.Params, c backend.TileConfig) error {
	mustTiled(p)
	if c == "" {
		delete(d.tiles, backend.KeyOf(p))
		return nil
	}
	tc, err := d.checkTile(p, c)
	if err != nil {
		return err
	}
	if d.tiles == nil {
		d.tiles = map[backend.TuneKey]tileConfig{}
	}
	d.tiles[backend.KeyOf(p)] = tc
	return nil
}

// DispatchTile is Dispatch with configuration c instead of the table's:
// CheckTile's error when c cannot run, else Dispatch's.
func (d *Device) DispatchTile(c backend.TileConfig, p backend.Params, bufs ...backend.Buffer) error {
	tc, err := d.checkTile(p, c)
	if err != nil {
		return err
	}
	return d.dispatchWith(p, bufs, func(d *Device, p backend.Params, cbs []*Buffer) error {
		return d.runTile(tc, p, cbs)
	})
}

// tileFor is the configuration p runs with: the table's (SetTile), else
// the default.
func (d *Device) tileFor(p backend.Params) tileConfig {
	if len(d.tiles) > 0 {
		if c, ok := d.tiles[backend.KeyOf(p)]; ok {
			return c
		}
	}
	return d.defaultTile(p)
}

// runTile queues tiled dispatch p with configuration c.
func (d *Device) runTile(c tileConfig, p backend.Params, bufs []*Buffer) error {
	switch p.Kernel() {
	case backend.KGemm:
		q, err := paramsAs[backend.Gemm](p)
		if err != nil {
			return err
		}
		return d.gemmWith(c.t, q, bufs)
	case backend.KConv2DFwd:
		q, err := paramsAs[backend.Conv2DFwd](p)
		if err != nil {
			return err
		}
		return d.convFwdWith(c.t, q, bufs)
	case backend.KConv2DBwdData:
		q, err := paramsAs[backend.Conv2DBwdData](p)
		if err != nil {
			return err
		}
		if c.naive {
			return d.convBwdDataDirect(q, bufs)
		}
		return d.convBwdDataWith(c.t, q, bufs)
	case backend.KConv2DBwdFilter:
		q, err := paramsAs[backend.Conv2DBwdFilter](p)
		if err != nil {
			return err
		}
		return d.convBwdFilterWith(c.t, q, bufs, c.splits)
	}
	return fmt.Errorf("opencl: %s is not a tiled kernel", p.Kernel())
}
