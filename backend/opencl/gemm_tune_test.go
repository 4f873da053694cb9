package opencl

import (
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// tuneTiling is a CPU tiling of gemm with the given numbers.
func tuneTiling(mwg, nwg, kwg, mdimc, ndimc, vw, lvw int) tiling {
	t := tiling{mwg: mwg, nwg: nwg, kwg: kwg, mdimc: mdimc, ndimc: ndimc, vw: vw, lvw: lvw, cpu: true}
	t.name = fmt.Sprintf("MWG=%d NWG=%d KWG=%d WG=%dx%d VW=%d LVW=%d (%dx%d per item)",
		mwg, nwg, kwg, mdimc, ndimc, vw, lvw, mwg/mdimc, nwg/ndimc)
	return t
}

// TestTuneGemmCPU times gemm tilings at n=1024 (set CROSSGRAD_TUNE=1;
// CROSSGRAD_TUNE_N overrides the size, CROSSGRAD_TUNE_ONLY=mwg,nwg,kwg,
// mdimc,ndimc,vw,lvw times that tiling alone).
func TestTuneGemmCPU(t *testing.T) {
	if os.Getenv("CROSSGRAD_TUNE") == "" {
		t.Skip("set CROSSGRAD_TUNE=1 to run the tiling sweep")
	}
	configs := []tiling{
		tuneTiling(64, 64, 32, 8, 2, 16, 16),
		tuneTiling(64, 64, 32, 8, 4, 16, 16),
		tuneTiling(64, 64, 32, 8, 4, 8, 8),
		tuneTiling(32, 64, 32, 4, 2, 16, 16),
		tuneTiling(64, 128, 32, 8, 4, 16, 16),
		tuneTiling(96, 64, 32, 16, 2, 16, 16),
	}
	if s := os.Getenv("CROSSGRAD_TUNE_ONLY"); s != "" {
		var v [7]int
		_, err := fmt.Sscanf(s, "%d,%d,%d,%d,%d,%d,%d", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6])
		require.NoError(t, err)
		configs = []tiling{tuneTiling(v[0], v[1], v[2], v[3], v[4], v[5], v[6])}
	}
	n := 1024
	if s := os.Getenv("CROSSGRAD_TUNE_N"); s != "" {
		fmt.Sscanf(s, "%d", &n)
	}
	d := openTileTest(t)
	d.EnableTiming()
	for _, c := range configs {
		start := time.Now()
		checkGemmTiling(t, d, rand.New(rand.NewSource(2)), c, [][3]int{{1, 1, 1}, {67, 131, 45}, {128, 64, 64}, {5, 200, 77}, {130, 3, 33}})
		build := time.Since(start)
		p := backend.Gemm{M: uint32(n), N: uint32(n), K: uint32(n), Alpha: 1}
		bufs := benchBuffers(t, d, p.BufferSizes()...)
		var ts, ws []float64
		flop := 2 * float64(n) * float64(n) * float64(n)
		_, err := d.KernelTimes()
		require.NoError(t, err)
		c0 := cpuSeconds()
		for r := 0; r < 5; r++ {
			w := time.Now()
			require.NoError(t, d.gemmWith(c, p, bufs))
			kt, err := d.KernelTimes()
			require.NoError(t, err)
			ws = append(ws, flop/float64(time.Since(w).Nanoseconds()))
			ts = append(ts, flop/float64(kt[backend.KGemm].Nanos))
		}
		sort.Float64s(ts)
		t.Logf("%s: %.1f GFLOP/cpu-s; GFLOP/s %s (wall %s) (build and check %v)", c.name, 5*flop/1e9/(cpuSeconds()-c0), fmtFloats(ts), fmtFloats(ws), build.Round(time.Millisecond))
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

// TestTuneConv times the conv kernels of the device's tiling on AlexNet's
// layers (batch CROSSGRAD_TUNE_BATCH, default 8) in GFLOP per CPU-second
// (set CROSSGRAD_TUNE=1; CROSSGRAD_TUNE_DEFS changes the tiling's numbers:
// NAME=value pairs of its -D options, e.g. TILE_KWG=64, separated by ';').
func TestTuneConv(t *testing.T) {
	if os.Getenv("CROSSGRAD_TUNE") == "" {
		t.Skip("set CROSSGRAD_TUNE=1 to run")
	}
	batch := 8
	if s := os.Getenv("CROSSGRAD_TUNE_BATCH"); s != "" {
		fmt.Sscanf(s, "%d", &batch)
	}
	d := openTileTest(t)
	tl, err := overrideTiling(d.tiling(), os.Getenv("CROSSGRAD_TUNE_DEFS"))
	require.NoError(t, err)
	t.Logf("tiling %+v", tl)
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
			bufs := benchBuffers(t, d, sizes[pass]...)
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

// overrideTiling returns t with the -D values of spec ("NAME=value;...",
// NAME one of tiling.defineList's) in place of its own.
func overrideTiling(t tiling, spec string) (tiling, error) {
	ints := map[string]*int{"TILE_MWG": &t.mwg, "TILE_NWG": &t.nwg, "TILE_KWG": &t.kwg,
		"TILE_MDIMC": &t.mdimc, "TILE_NDIMC": &t.ndimc, "TILE_VW": &t.vw, "TILE_LVW": &t.lvw}
	bools := map[string]*bool{"TILE_STRIDED": &t.strided, "TILE_CPU": &t.cpu}
	for _, kv := range strings.Split(spec, ";") {
		if kv == "" {
			continue
		}
		name, val, _ := strings.Cut(kv, "=")
		v, err := strconv.Atoi(val)
		if err != nil {
			return t, fmt.Errorf("%q: %w", kv, err)
		}
		if p, ok := ints[name]; ok {
			*p = v
		} else if p, ok := bools[name]; ok {
			*p = v != 0
		} else {
			return t, fmt.Errorf("%q: no tiling define %s", kv, name)
		}
		t.name += " " + kv
	}
	return t, nil
}

func fmtFloats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.1f", x)
	}
	return strings.Join(s, " ")
}
