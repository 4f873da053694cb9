package backendtest

import (
	"errors"
	"math"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
)

// faulty wraps a reference device and lets a test replace Dispatch or Read,
// to prove the suite fails wrong backends.
type faulty struct {
	*ref.Device
	dispatch func(d *ref.Device, p backend.Params, bufs []backend.Buffer) error
	read     func(d *ref.Device, b backend.Buffer, off int, dst []float32) error
	close    func(d *ref.Device) error
	live     func(d *ref.Device) int
}

func (f *faulty) Dispatch(p backend.Params, bufs ...backend.Buffer) error {
	if f.dispatch != nil {
		return f.dispatch(f.Device, p, bufs)
	}
	return f.Device.Dispatch(p, bufs...)
}

func (f *faulty) Read(b backend.Buffer, off int, dst []float32) error {
	if f.read != nil {
		return f.read(f.Device, b, off, dst)
	}
	return f.Device.Read(b, off, dst)
}

func (f *faulty) Close() error {
	if f.close != nil {
		return f.close(f.Device)
	}
	return f.Device.Close()
}

func (f *faulty) LiveBuffers() int {
	if f.live != nil {
		return f.live(f.Device)
	}
	return f.Device.LiveBuffers()
}

// after returns a dispatch that runs the reference kernel, then lets edit
// change the contents of buffer slot of kernel k.
func after(k backend.Kernel, slot int, edit func(p backend.Params, v []float32)) func(*ref.Device, backend.Params, []backend.Buffer) error {
	return func(d *ref.Device, p backend.Params, bufs []backend.Buffer) error {
		if err := d.Dispatch(p, bufs...); err != nil || p.Kernel() != k {
			return err
		}
		v := make([]float32, p.BufferSizes()[slot])
		if err := d.Read(bufs[slot], 0, v); err != nil {
			return err
		}
		edit(p, v)
		return d.Write(bufs[slot], 0, v)
	}
}

// hostDispatch runs kernel k on the host with compute (over copies of all
// buffers, written back afterwards) and every other kernel on the reference.
func hostDispatch(k backend.Kernel, compute func(p backend.Params, v [][]float32)) func(*ref.Device, backend.Params, []backend.Buffer) error {
	return func(d *ref.Device, p backend.Params, bufs []backend.Buffer) error {
		if p == nil || p.Kernel() != k {
			return d.Dispatch(p, bufs...)
		}
		if err := backend.CheckDispatch(p, bufs); err != nil {
			return err
		}
		v := make([][]float32, len(bufs))
		for i, b := range bufs {
			v[i] = make([]float32, b.Len())
			if err := d.Read(b, 0, v[i]); err != nil {
				return err
			}
		}
		compute(p, v)
		for i, b := range bufs {
			if err := d.Write(b, 0, v[i]); err != nil {
				return err
			}
		}
		return nil
	}
}

// gemm32 is a naive gemm accumulating in float32 in sequential order, an
// honest single-precision implementation the suite must accept.
func gemm32(p backend.Params, v [][]float32) {
	g := p.(backend.Gemm)
	m, n, k := int(g.M), int(g.N), int(g.K)
	for z := range g.Batches() {
		gemm32One(g, v[0][z*m*k:], v[1][z*k*n:], v[2][z*m*n:])
	}
}

// gemm32One is one product of gemm32.
func gemm32One(g backend.Gemm, a, b, c []float32) {
	m, n, k := int(g.M), int(g.N), int(g.K)
	for i := range m {
		for j := range n {
			var s float32
			for l := range k {
				av, bv := a[i*k+l], b[l*n+j]
				if g.TransA != 0 {
					av = a[l*m+i]
				}
				if g.TransB != 0 {
					bv = b[j*k+l]
				}
				s += av * bv
			}
			r := g.Alpha * s
			if g.Beta != 0 {
				r += g.Beta * c[i*n+j]
			}
			c[i*n+j] = r
		}
	}
}

// conv32 is a naive direct convolution accumulating in float32 (with the
// fused ReLU when Relu is set).
func conv32(p backend.Params, v [][]float32) {
	q := p.(backend.Conv2DFwd)
	g := q.Conv2DShape
	x, w, b, y := v[0], v[1], v[2], v[3]
	N, C, H, W, K, R, S := int(g.N), int(g.C), int(g.H), int(g.W), int(g.K), int(g.R), int(g.S)
	OH, OW := int(g.OH), int(g.OW)
	for n := range N {
		for k := range K {
			for oh := range OH {
				for ow := range OW {
					s := b[k]
					for c := range C {
						for r := range R {
							ih := oh*int(g.StrideH) - int(g.PadH) + r
							if ih < 0 || ih >= H {
								continue
							}
							for q := range S {
								iw := ow*int(g.StrideW) - int(g.PadW) + q
								if iw < 0 || iw >= W {
									continue
								}
								s += x[((n*C+c)*H+ih)*W+iw] * w[((k*C+c)*R+r)*S+q]
							}
						}
					}
					if q.Relu != 0 && !(s > 0) {
						s = 0
					}
					y[((n*K+k)*OH+oh)*OW+ow] = s
				}
			}
		}
	}
}

// poolLastMax is max-pool forward that keeps the LAST maximum of a window
// (the common >= bug).
func poolLastMax(p backend.Params, v [][]float32) {
	g := p.(backend.MaxPoolFwd).Pool2DShape
	x, y, idx := v[0], v[1], v[2]
	H, W := int(g.H), int(g.W)
	o := 0
	for nc := range int(g.N * g.C) {
		for oh := range int(g.OH) {
			for ow := range int(g.OW) {
				best, arg := float32(math.Inf(-1)), -1
				h0, h1 := window(oh, g.StrideH, g.PadH, g.KH, g.H)
				w0, w1 := window(ow, g.StrideW, g.PadW, g.KW, g.W)
				for h := h0; h < h1; h++ {
					for w := w0; w < w1; w++ {
						if xv := x[nc*H*W+h*W+w]; arg < 0 || xv >= best {
							best, arg = xv, h*W+w
						}
					}
				}
				y[o], idx[o] = best, float32(arg)
				o++
			}
		}
	}
}

var errInjected = errors.New("injected failure")
