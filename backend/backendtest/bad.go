package backendtest

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/crossgrad/crossgrad/backend"
)

// BadInputs checks that dispatches of kernel k that no kernel may run are
// rejected by Dispatch with an error naming k, without a crash: each buffer
// in turn one element too small, one buffer too few and one too many, a nil
// buffer, zero (invalid) params, and a buffer allocated by another device
// type. Afterwards Sync must still succeed.
func (r *Runner) BadInputs(k backend.Kernel) Result {
	res := Result{Kernel: k, Case: BadInputsName}
	c, ok := badInputCase(k)
	if !ok {
		res.Err = fmt.Errorf("no case for kernel %s", k)
		return res
	}
	sizes := c.Params.BufferSizes()
	var fails []error
	try := func(what string, p backend.Params, alloc []int, mutate func([]backend.Buffer) []backend.Buffer) {
		err := safely(func() error {
			bufs := make([]backend.Buffer, len(alloc))
			defer func() {
				for _, b := range bufs {
					if b != nil {
						b.Release()
					}
				}
			}()
			for i, n := range alloc {
				b, err := r.dev.Alloc(n)
				if err != nil {
					return fmt.Errorf("alloc %d elements: %w", n, err)
				}
				bufs[i] = b
			}
			args := bufs
			if mutate != nil {
				args = mutate(append([]backend.Buffer(nil), bufs...))
			}
			err := r.dev.Dispatch(p, args...)
			if err == nil {
				return errors.New("dispatch returned no error")
			}
			if !strings.Contains(err.Error(), string(k)) {
				return fmt.Errorf("the error does not name the kernel %s: %v", k, err)
			}
			return nil
		})
		if err != nil {
			fails = append(fails, fmt.Errorf("%s: %w", what, err))
		}
	}
	for i, n := range sizes {
		if n < 2 {
			continue
		}
		short := append([]int(nil), sizes...)
		short[i] = n - 1
		try(fmt.Sprintf("buffer %d one element too small (%d of %d)", i, n-1, n), c.Params, short, nil)
	}
	try(fmt.Sprintf("%d buffers instead of %d", len(sizes)-1, len(sizes)), c.Params, sizes[:len(sizes)-1], nil)
	try(fmt.Sprintf("%d buffers instead of %d", len(sizes)+1, len(sizes)), c.Params, append(append([]int(nil), sizes...), 1), nil)
	try("nil buffer 0", c.Params, sizes, func(b []backend.Buffer) []backend.Buffer {
		b[0].Release()
		b[0] = nil
		return b
	})
	zero := backend.ParamsFor(k)
	ones := make([]int, len(zero.BufferSizes()))
	for i := range ones {
		ones[i] = 1
	}
	try(fmt.Sprintf("invalid params %+v", zero), zero, ones, nil)
	if foreign := r.foreignBuffer(sizes[0]); foreign != nil {
		defer foreign.Release()
		try("buffer 0 from another device type", c.Params, sizes, func(b []backend.Buffer) []backend.Buffer {
			b[0].Release()
			b[0] = foreign
			return b
		})
	}
	if err := safely(func() error { return r.dev.Dispatch(nil) }); err == nil || errors.Is(err, ErrPanic) {
		fails = append(fails, fmt.Errorf("nil params: want an error, got %v", err))
	}
	if err := safely(r.dev.Sync); err != nil {
		fails = append(fails, fmt.Errorf("sync after rejected dispatches: %w", err))
	}
	res.Err = errors.Join(fails...)
	res.Pass = res.Err == nil
	return res
}

// badInputCase picks the first case of k whose buffers all hold at least 2
// elements (so each can be made one too small), else the first case.
func badInputCase(k backend.Kernel) (Case, bool) {
	cs := CasesOf(k)
	if len(cs) == 0 {
		return Case{}, false
	}
	for _, c := range cs {
		if slicesMin(c.Params.BufferSizes()) >= 2 && !c.Large {
			return c, true
		}
	}
	return cs[0], true
}

func slicesMin(v []int) int {
	m := math.MaxInt
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

// foreignBuffer returns a reference-device buffer of n elements when its
// type differs from the device under test's buffers, else nil.
func (r *Runner) foreignBuffer(n int) backend.Buffer {
	var own backend.Buffer
	if err := safely(func() error {
		var err error
		own, err = r.dev.Alloc(1)
		return err
	}); err != nil || own == nil {
		return nil
	}
	defer own.Release()
	b, err := r.ref.Alloc(n)
	if err != nil {
		return nil
	}
	if reflect.TypeOf(b) == reflect.TypeOf(own) {
		b.Release()
		return nil
	}
	return b
}

// ioPatterns are float32 bit patterns that must travel through Write and
// Read unchanged (packed uint8 data reuses every pattern, NaNs included).
var ioPatterns = []uint32{
	0x00000000, 0x80000000, 0x00000001, 0x807FFFFF, 0x00800000, 0x3F800000,
	0x7F7FFFFF, 0xFF7FFFFF, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001,
	0x7F800001, 0x7FBFFFFF, 0xFF800ABC, 0xDEADBEEF, 0x12345678, 0xFFFFFFFF,
}

// CheckIO checks Write and Read: arbitrary bit patterns (NaN payloads,
// signalling NaNs, denormals, -0) round-trip exactly at element offsets,
// partial writes leave the rest of the buffer alone, zero-length transfers
// succeed, and out-of-range transfers and Alloc(-1) return errors.
func (r *Runner) CheckIO() Result {
	res := Result{Kernel: IOKernel, Case: IOName}
	res.Err = safely(func() error {
		const n = 37
		b, err := r.dev.Alloc(n)
		if err != nil {
			return fmt.Errorf("alloc %d: %w", n, err)
		}
		defer b.Release()
		if b.Len() != n {
			return fmt.Errorf("Alloc(%d).Len() = %d", n, b.Len())
		}
		full := make([]float32, n)
		for i := range full {
			full[i] = math.Float32frombits(ioPatterns[i%len(ioPatterns)] ^ uint32(i/len(ioPatterns))<<4)
		}
		if err := r.dev.Write(b, 0, full); err != nil {
			return fmt.Errorf("write %d at 0: %w", n, err)
		}
		part := make([]float32, 10)
		for i := range part {
			part[i] = math.Float32frombits(ioPatterns[len(ioPatterns)-1-i])
		}
		if err := r.dev.Write(b, 20, part); err != nil {
			return fmt.Errorf("write 10 at 20: %w", err)
		}
		copy(full[20:], part)
		got := make([]float32, n)
		if err := r.dev.Read(b, 0, got); err != nil {
			return fmt.Errorf("read %d at 0: %w", n, err)
		}
		if err := sameBits(got, full, 0); err != nil {
			return err
		}
		mid := make([]float32, 7)
		if err := r.dev.Read(b, 17, mid); err != nil {
			return fmt.Errorf("read 7 at 17: %w", err)
		}
		if err := sameBits(mid, full[17:24], 17); err != nil {
			return err
		}
		if err := r.dev.Write(b, n, nil); err != nil {
			return fmt.Errorf("zero-length write at the end: %w", err)
		}
		if err := r.dev.Read(b, 0, []float32{}); err != nil {
			return fmt.Errorf("zero-length read: %w", err)
		}
		bad := []struct {
			what string
			f    func() error
		}{
			{"write 10 at 30 of 37", func() error { return r.dev.Write(b, 30, make([]float32, 10)) }},
			{"write at -1", func() error { return r.dev.Write(b, -1, make([]float32, 2)) }},
			{"read 10 at 30 of 37", func() error { return r.dev.Read(b, 30, make([]float32, 10)) }},
			{"read at -1", func() error { return r.dev.Read(b, -1, make([]float32, 2)) }},
			{"read 38 of 37", func() error { return r.dev.Read(b, 0, make([]float32, 38)) }},
			{"alloc -1", func() error {
				nb, err := r.dev.Alloc(-1)
				if err == nil && nb != nil {
					nb.Release()
				}
				return err
			}},
		}
		for _, t := range bad {
			if err := safely(t.f); err == nil || errors.Is(err, ErrPanic) {
				return fmt.Errorf("%s: want an error, got %v", t.what, err)
			}
		}
		return r.dev.Sync()
	})
	res.Pass = res.Err == nil
	return res
}

func sameBits(got, want []float32, offset int) error {
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return fmt.Errorf("element %d read back as bits %#08x, wrote %#08x", offset+i,
				math.Float32bits(got[i]), math.Float32bits(want[i]))
		}
	}
	return nil
}
