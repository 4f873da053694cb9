package opencl

import (
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jgillich/go-opencl/cl"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// The GEMM and implicit-GEMM convolution benchmarks of the OpenCL backend.
// Every figure is GFLOP/s from wall time around the queued work and a Sync
// (2*M*N*K flops per GEMM; 2*N*K*C*R*S*OH*OW per convolution pass). The GEMM
// cases also time, interleaved in the same run (benchRounds rounds,
// medians), CLBlast's SGEMM (build tag clblast) and the 16x16 local-tile
// kernel below, and report the ratios ours/CLBlast and ours/16x16. The
// 16x16 baseline runs on the square case only unless
// CROSSGRAD_BENCH_BASELINE=all. CROSSGRAD_BENCH_DEVICE picks the OpenCL
// device index (default 0). Run with
//
//	go test ./backend/opencl/ -run Gemm -bench Gemm [-tags clblast]

// baseline16Source is the classic 16x16 local-memory tiled SGEMM (one
// output per work-item), the starting point the tile engine is measured
// against.
const baseline16Source = `
__kernel __attribute__((reqd_work_group_size(16, 16, 1)))
void tile16(const int M, const int N, const int K, const int ta, const int tb,
            __global const float* A, __global const float* B, __global float* C) {
    __local float As[16][16];
    __local float Bs[16][16];
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int col = get_group_id(0) * 16 + tx, row = get_group_id(1) * 16 + ty;
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += 16) {
        const int ka = k0 + tx, kb = k0 + ty;
        As[ty][tx] = (row < M && ka < K) ? (ta ? A[ka * M + row] : A[row * K + ka]) : 0.0f;
        Bs[ty][tx] = (kb < K && col < N) ? (tb ? B[col * K + kb] : B[kb * N + col]) : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int k = 0; k < 16; k++) acc += As[ty][k] * Bs[k][tx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (row < M && col < N) C[row * N + col] = acc;
}
`

// benchRounds is the number of interleaved rounds of the comparisons.
const benchRounds = 3

// baseline16 is the 16x16 kernel built on one device.
type baseline16 struct {
	prog *cl.Program
	k    *cl.Kernel
}

func newBaseline16(b *testing.B, d *Device) *baseline16 {
	prog, err := d.ctx.CreateProgramWithSource([]string{baseline16Source})
	require.NoError(b, err)
	require.NoError(b, prog.BuildProgram([]*cl.Device{d.dev}, "-cl-std=CL1.2"))
	k, err := prog.CreateKernel("tile16")
	require.NoError(b, err)
	return &baseline16{prog: prog, k: k}
}

func (t *baseline16) release() {
	t.k.Release()
	t.prog.Release()
}

// run queues the baseline over p (Alpha 1, Beta 0 only).
func (t *baseline16) run(d *Device, p backend.Gemm, bufs []*Buffer) error {
	if err := t.k.SetArgs(int32(p.M), int32(p.N), int32(p.K), int32(p.TransA), int32(p.TransB),
		bufs[0].mem, bufs[1].mem, bufs[2].mem); err != nil {
		return err
	}
	g := []int{(int(p.N) + 15) / 16 * 16, (int(p.M) + 15) / 16 * 16}
	ev, err := d.queue.EnqueueNDRangeKernel(t.k, nil, g, []int{16, 16}, nil)
	if ev != nil {
		ev.Release()
	}
	return err
}

// openBench opens the benchmarked device, closed when b ends.
func openBench(b *testing.B) *Device {
	if _, err := listDevices(); err != nil {
		b.Skipf("no OpenCL device: %v", err)
	}
	idx := 0
	if s := os.Getenv("CROSSGRAD_BENCH_DEVICE"); s != "" {
		var err error
		idx, err = strconv.Atoi(s)
		require.NoError(b, err)
	}
	d, err := Open(idx)
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, d.Close()) })
	return d
}

// benchBuffers allocates buffers of the given sizes filled with random
// values in [-1, 1).
func benchBuffers(b testing.TB, d *Device, sizes ...int) []*Buffer {
	rng := rand.New(rand.NewSource(3))
	out := make([]*Buffer, len(sizes))
	for i, n := range sizes {
		buf, err := d.Alloc(n)
		require.NoError(b, err)
		v := make([]float32, n)
		for j := range v {
			v[j] = rng.Float32()*2 - 1
		}
		require.NoError(b, d.Write(buf, 0, v))
		out[i] = buf.(*Buffer)
		b.Cleanup(out[i].Release)
	}
	return out
}

// timed runs queue then Sync and returns GFLOP/s for flops.
func timed(b *testing.B, d *Device, flops float64, queue func() error) float64 {
	start := time.Now()
	require.NoError(b, queue())
	require.NoError(b, d.Sync())
	return flops / float64(time.Since(start).Nanoseconds())
}

// benchLoop times b.N runs of queue (after one untimed warm-up, which
// includes PoCL's per-kernel compilation) and reports GFLOP/s.
func benchLoop(b *testing.B, d *Device, flops float64, queue func() error) {
	require.NoError(b, queue())
	require.NoError(b, d.Sync())
	b.ResetTimer()
	for range b.N {
		require.NoError(b, queue())
	}
	require.NoError(b, d.Sync())
	b.StopTimer()
	b.ReportMetric(flops*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// gemmCase is one benchmarked product.
type gemmCase struct {
	name string
	p    backend.Gemm
}

// gemmCases: n=1024 square, and AlexNet's three fully connected layers at
// batch 128 in the three training products: forward y = x*W^T (M = batch,
// N = out, K = in, W stored out x in), backward data dx = dy*W, backward
// weights dW = dy^T*x.
func gemmCases() []gemmCase {
	cs := []gemmCase{{"square1024", backend.Gemm{M: 1024, N: 1024, K: 1024, Alpha: 1}}}
	const batch = 128
	for i, l := range [][2]uint32{{6400, 4096}, {4096, 4096}, {4096, 10}} {
		in, out := l[0], l[1]
		pre := fmt.Sprintf("fc%d_%dx%d", i+1, in, out)
		cs = append(cs,
			gemmCase{pre + "/fwd", backend.Gemm{M: batch, N: out, K: in, TransB: 1, Alpha: 1}},
			gemmCase{pre + "/bwd_data", backend.Gemm{M: batch, N: in, K: out, Alpha: 1}},
			gemmCase{pre + "/bwd_weights", backend.Gemm{M: out, N: in, K: batch, TransA: 1, Alpha: 1}})
	}
	return cs
}

// BenchmarkGemm times the backend's gemm against CLBlast and the 16x16
// baseline on the same device.
func BenchmarkGemm(b *testing.B) {
	d := openBench(b)
	b.Logf("device: %s; tiling %+v", d.Info(), d.tiling())
	base := newBaseline16(b, d)
	defer base.release()
	allBase := os.Getenv("CROSSGRAD_BENCH_BASELINE") == "all"
	for i, c := range gemmCases() {
		b.Run(c.name, func(b *testing.B) {
			p := c.p
			bufs := benchBuffers(b, d, p.BufferSizes()...)
			flops := 2 * float64(p.M) * float64(p.N) * float64(p.K)
			ours := func() error { return d.Dispatch(p, bufs[0], bufs[1], bufs[2]) }
			benchLoop(b, d, flops, ours)

			cmp := map[string]func() error{}
			if clblastAvailable {
				cmp["clblast"] = func() error { return clblastSgemm(d, p, bufs[0], bufs[1], bufs[2]) }
			} else if i == 0 {
				b.Log("CLBlast comparison skipped: build with -tags clblast (needs libclblast-dev)")
			}
			if i == 0 || allBase {
				cmp["tile16"] = func() error { return base.run(d, p, bufs) }
			}
			if len(cmp) == 0 {
				return
			}
			for _, f := range cmp { // warm-up: CLBlast compiles its kernels on first use
				require.NoError(b, f())
				require.NoError(b, d.Sync())
			}
			got := map[string][]float64{}
			for range benchRounds {
				got["ours"] = append(got["ours"], timed(b, d, flops, ours))
				for name, f := range cmp {
					got[name] = append(got[name], timed(b, d, flops, f))
				}
			}
			o := median(got["ours"])
			for name := range cmp {
				m := median(got[name])
				b.ReportMetric(m, name+"-GFLOP/s")
				b.ReportMetric(o/m, "x-"+name)
			}
			b.Logf("%s: ours %.1f GFLOP/s (medians of %d interleaved rounds)%s", c.name, o, benchRounds, ratios(got, o))
		})
	}
}

func ratios(got map[string][]float64, o float64) string {
	s := ""
	for _, name := range []string{"clblast", "tile16"} {
		if v, ok := got[name]; ok {
			m := median(v)
			s += fmt.Sprintf("; %s %.1f GFLOP/s, ours/%s = %.2f", name, m, name, o/m)
		}
	}
	return s
}

// alexNetConvs are AlexNet's five convolutions (PyTorch seed model, 224x224
// single-channel input) at the given batch.
func alexNetConvs(batch int) []struct {
	name string
	g    backend.Conv2DShape
} {
	return []struct {
		name string
		g    backend.Conv2DShape
	}{
		{"conv1", backend.NewConv2DShape(batch, 1, 224, 224, 96, 11, 11, 4, 1)},
		{"conv2", backend.NewConv2DShape(batch, 96, 26, 26, 256, 5, 5, 1, 2)},
		{"conv3", backend.NewConv2DShape(batch, 256, 12, 12, 384, 3, 3, 1, 1)},
		{"conv4", backend.NewConv2DShape(batch, 384, 12, 12, 384, 3, 3, 1, 1)},
		{"conv5", backend.NewConv2DShape(batch, 384, 12, 12, 256, 3, 3, 1, 1)},
	}
}

// BenchmarkImplicitGemmConv times the three convolution kernels on
// AlexNet's layers at batch 8 (CROSSGRAD_BENCH_BATCH overrides).
func BenchmarkImplicitGemmConv(b *testing.B) {
	d := openBench(b)
	batch := 8
	if s := os.Getenv("CROSSGRAD_BENCH_BATCH"); s != "" {
		var err error
		batch, err = strconv.Atoi(s)
		require.NoError(b, err)
	}
	for _, l := range alexNetConvs(batch) {
		g := l.g
		flops := 2 * float64(g.N) * float64(g.K) * float64(g.C*g.R*g.S) * float64(g.OH*g.OW)
		b.Run(l.name+"/fwd", func(b *testing.B) {
			p := backend.Conv2DFwd{Conv2DShape: g}
			bufs := benchBuffers(b, d, p.BufferSizes()...)
			benchLoop(b, d, flops, func() error { return d.Dispatch(p, bufs[0], bufs[1], bufs[2], bufs[3]) })
		})
		b.Run(l.name+"/bwd_data", func(b *testing.B) {
			p := backend.Conv2DBwdData{Conv2DShape: g}
			bufs := benchBuffers(b, d, p.BufferSizes()...)
			benchLoop(b, d, flops, func() error { return d.Dispatch(p, bufs[0], bufs[1], bufs[2]) })
		})
		b.Run(l.name+"/bwd_filter", func(b *testing.B) {
			p := backend.Conv2DBwdFilter{Conv2DShape: g}
			bufs := benchBuffers(b, d, p.BufferSizes()...)
			benchLoop(b, d, flops, func() error { return d.Dispatch(p, bufs[0], bufs[1], bufs[2], bufs[3]) })
		})
	}
}
