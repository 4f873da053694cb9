package opencl

import (
	"fmt"
	"io/fs"
	"math"
	"math/rand"
	"os"
	"sort"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
)

// openWithDefines opens OpenCL device 0 with a program made of the named
// embedded sources only, preceded by the #define lines defs (tile
// configurations override the defaults of gemm.cl and the conv files).
func openWithDefines(t testing.TB, defs string, files ...string) *Device {
	t.Helper()
	src := openCLSources()
	m := fstest.MapFS{}
	names, err := fs.Glob(src, "*.h")
	require.NoError(t, err)
	for _, n := range append(names, files...) {
		b, err := fs.ReadFile(src, n)
		require.NoError(t, err)
		m[n] = &fstest.MapFile{Data: b}
	}
	prog, err := programSource(m)
	require.NoError(t, err)
	devs, err := listDevices()
	if err != nil {
		t.Skipf("no OpenCL device: %v", err)
	}
	info, err := deviceInfo(devs[0], 0)
	require.NoError(t, err)
	d, err := openWith(devs[0], info, defs+prog)
	require.NoError(t, err)
	return d
}

// tuneConfig is one CPU tiling of gemm_cpu.
type tuneConfig struct{ mwg, nwg, kwg, mdimc, ndimc, vw, lvw int }

func (c tuneConfig) defines() string {
	return fmt.Sprintf("#define TGC_MWG %d\n#define TGC_NWG %d\n#define TGC_KWG %d\n#define TGC_MDIMC %d\n"+
		"#define TGC_NDIMC %d\n#define TGC_VW %d\n#define TGC_LVW %d\n#define TGC_STRIDED 0\n",
		c.mwg, c.nwg, c.kwg, c.mdimc, c.ndimc, c.vw, c.lvw)
}

func (c tuneConfig) String() string {
	return fmt.Sprintf("MWG=%d NWG=%d KWG=%d WG=%dx%d VW=%d LVW=%d (%dx%d per item)",
		c.mwg, c.nwg, c.kwg, c.mdimc, c.ndimc, c.vw, c.lvw, c.mwg/c.mdimc, c.nwg/c.ndimc)
}

// TestTuneGemmCPU times gemm_cpu tilings at n=1024 (set CROSSGRAD_TUNE=1;
// CROSSGRAD_TUNE_N overrides the size).
func TestTuneGemmCPU(t *testing.T) {
	if os.Getenv("CROSSGRAD_TUNE") == "" {
		t.Skip("set CROSSGRAD_TUNE=1 to run the tiling sweep")
	}
	configs := []tuneConfig{
		{64, 64, 32, 8, 2, 16, 16},
		{64, 64, 32, 8, 4, 16, 16},
		{64, 64, 32, 8, 4, 8, 8},
		{32, 64, 32, 4, 2, 16, 16},
		{64, 128, 32, 8, 4, 16, 16},
		{96, 64, 32, 16, 2, 16, 16},
	}
	if s := os.Getenv("CROSSGRAD_TUNE_ONLY"); s != "" {
		var c tuneConfig
		_, err := fmt.Sscanf(s, "%d,%d,%d,%d,%d,%d,%d", &c.mwg, &c.nwg, &c.kwg, &c.mdimc, &c.ndimc, &c.vw, &c.lvw)
		require.NoError(t, err)
		configs = []tuneConfig{c}
	}
	n := 1024
	if s := os.Getenv("CROSSGRAD_TUNE_N"); s != "" {
		fmt.Sscanf(s, "%d", &n)
	}
	for _, c := range configs {
		start := time.Now()
		d := openWithDefines(t, c.defines(), "gemm.cl")
		build := time.Since(start)
		checkGemmKernel(t, d, "gemm_cpu", c.mwg, c.nwg, c.mdimc, c.ndimc)
		d.EnableTiming()
		p := backend.Gemm{M: uint32(n), N: uint32(n), K: uint32(n), Alpha: 1}
		bufs := allocRandom(t, d, p.BufferSizes()...)
		var ts, ws []float64
		flop := 2 * float64(n) * float64(n) * float64(n)
		c0 := cpuSeconds()
		for r := 0; r < 5; r++ {
			w := time.Now()
			require.NoError(t, launchGemmWith(d, "gemm_cpu", c.mwg, c.nwg, c.mdimc, c.ndimc, p, bufs))
			kt, err := d.KernelTimes()
			require.NoError(t, err)
			ws = append(ws, flop/float64(time.Since(w).Nanoseconds()))
			ts = append(ts, flop/float64(kt[backend.KGemm].Nanos))
		}
		sort.Float64s(ts)
		t.Logf("%s: %.1f GFLOP/cpu-s; GFLOP/s %s (wall %s) (build %v)", c, 5*flop/1e9/(cpuSeconds()-c0), fmtFloats(ts), fmtFloats(ws), build.Round(time.Millisecond))
		require.NoError(t, d.Close())
	}
}

// checkGemmKernel compares kernel name with ref.Gemm on a few odd shapes.
func checkGemmKernel(t *testing.T, d *Device, name string, mwg, nwg, mdimc, ndimc int) {
	shapes := [][3]int{{1, 1, 1}, {67, 131, 45}, {128, 64, 64}, {5, 200, 77}, {130, 3, 33}}
	rng := rand.New(rand.NewSource(2))
	for _, sh := range shapes {
		for ta := uint32(0); ta < 2; ta++ {
			for tb := uint32(0); tb < 2; tb++ {
				for _, beta := range []float32{0, 0.5} {
					p := backend.Gemm{M: uint32(sh[0]), N: uint32(sh[1]), K: uint32(sh[2]), TransA: ta, TransB: tb, Alpha: 1.5, Beta: beta}
					host := make([][]float32, 3)
					var bufs []*Buffer
					for i, n := range p.BufferSizes() {
						host[i] = make([]float32, n)
						for j := range host[i] {
							host[i][j] = rng.Float32()*2 - 1
							if i == 2 && beta == 0 {
								host[i][j] = float32(math.NaN())
							}
						}
						b, err := d.Alloc(n)
						require.NoError(t, err)
						require.NoError(t, d.Write(b, 0, host[i]))
						bufs = append(bufs, b.(*Buffer))
					}
					require.NoError(t, launchGemmWith(d, name, mwg, nwg, mdimc, ndimc, p, bufs))
					got := make([]float32, len(host[2]))
					require.NoError(t, d.Read(bufs[2], 0, got))
					ref.Gemm(p, host[0], host[1], host[2])
					for i := range got {
						require.InDelta(t, host[2][i], got[i], 1e-4+1e-4*math.Abs(float64(host[2][i])), "%+v at %d", p, i)
					}
					for _, b := range bufs {
						b.Release()
					}
				}
			}
		}
	}
}

// cpuSeconds is the user+system CPU time of this process so far: on a
// shared machine, flops per CPU-second compare variants more stably than
// wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// TestTuneConv times the conv kernels of the default configuration on
// AlexNet's layers (batch CROSSGRAD_TUNE_BATCH, default 8) in GFLOP per
// CPU-second (set CROSSGRAD_TUNE=1; CROSSGRAD_TUNE_DEFS adds #defines,
// separated by ';').
func TestTuneConv(t *testing.T) {
	if os.Getenv("CROSSGRAD_TUNE") == "" {
		t.Skip("set CROSSGRAD_TUNE=1 to run")
	}
	defs := ""
	for _, d := range strings.Split(os.Getenv("CROSSGRAD_TUNE_DEFS"), ";") {
		if d != "" {
			defs += "#define " + strings.Replace(d, "=", " ", 1) + "\n"
		}
	}
	batch := 8
	if s := os.Getenv("CROSSGRAD_TUNE_BATCH"); s != "" {
		fmt.Sscanf(s, "%d", &batch)
	}
	d := openWithDefines(t, defs, "gemm.cl", "conv2d_fwd.cl", "conv2d_bwd_data.cl", "conv2d_bwd_filter.cl")
	defer d.Close()
	tl := d.tiling()
	only := os.Getenv("CROSSGRAD_TUNE_LAYERS")
	for _, l := range alexNetConvs(batch) {
		if only != "" && !strings.Contains(only, l.name) {
			continue
		}
		g := l.g
		flops := 2 * float64(g.N) * float64(g.K) * float64(g.C*g.R*g.S) * float64(g.OH*g.OW)
		runs := map[string]func(b []*Buffer) error{
			"fwd":        func(b []*Buffer) error { return d.convFwdWith(tl, backend.Conv2DFwd{Conv2DShape: g}, b) },
			"bwd_data":   func(b []*Buffer) error { return d.convBwdDataWith(tl, backend.Conv2DBwdData{Conv2DShape: g}, b) },
			"bwd_filter": func(b []*Buffer) error { return d.convBwdFilterWith(tl, backend.Conv2DBwdFilter{Conv2DShape: g}, b, 0) },
		}
		sizes := map[string][]int{
			"fwd":        backend.Conv2DFwd{Conv2DShape: g}.BufferSizes(),
			"bwd_data":   backend.Conv2DBwdData{Conv2DShape: g}.BufferSizes(),
			"bwd_filter": backend.Conv2DBwdFilter{Conv2DShape: g}.BufferSizes(),
		}
		line := l.name
		gp := backend.Gemm{M: g.K, N: g.N * g.OH * g.OW, K: g.C * g.R * g.S, Alpha: 1}
		runs["gemm"] = func(b []*Buffer) error { return d.gemmWith(tl, gp, b) }
		sizes["gemm"] = gp.BufferSizes()
		for _, pass := range []string{"gemm", "fwd", "bwd_data", "bwd_filter"} {
			if ps := os.Getenv("CROSSGRAD_TUNE_PASSES"); ps != "" && !strings.Contains(ps, pass) {
				continue
			}
			bufs := allocRandom(t, d, sizes[pass]...)
			require.NoError(t, runs[pass](bufs))
			require.NoError(t, d.Sync())
			c0, w0 := cpuSeconds(), time.Now()
			const reps = 3
			for range reps {
				require.NoError(t, runs[pass](bufs))
			}
			require.NoError(t, d.Sync())
			line += fmt.Sprintf("  %s %.1f/cpu-s %.1f/s", pass, reps*flops/1e9/(cpuSeconds()-c0), reps*flops/float64(time.Since(w0).Nanoseconds()))
			for _, b := range bufs {
				b.Release()
			}
		}
		t.Log(line)
	}
}

// launchGemmWith queues kernel name with tiling (mwg, nwg, mdimc, ndimc).
func launchGemmWith(d *Device, name string, mwg, nwg, mdimc, ndimc int, p backend.Gemm, b []*Buffer) error {
	global := []int{(int(p.N) + nwg - 1) / nwg * ndimc, (int(p.M) + mwg - 1) / mwg * mdimc}
	return d.enqueue(backend.KGemm, name, global, []int{ndimc, mdimc}, p, b[0], b[1], b[2])
}

func allocRandom(t testing.TB, d *Device, sizes ...int) []*Buffer {
	t.Helper()
	rng := rand.New(rand.NewSource(1))
	var out []*Buffer
	for _, n := range sizes {
		b, err := d.Alloc(n)
		require.NoError(t, err)
		v := make([]float32, n)
		for i := range v {
			v[i] = rng.Float32()*2 - 1
		}
		require.NoError(t, d.Write(b, 0, v))
		out = append(out, b.(*Buffer))
	}
	return out
}

func fmtFloats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.1f", x)
	}
	return strings.Join(s, " ")
}
