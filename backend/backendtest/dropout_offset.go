package backendtest

import (
	"fmt"
	"math"

	"github.com/crossgrad/crossgrad/backend"
)

// DropoutShiftName names the CheckDropoutShift subtest of RunTest.
const DropoutShiftName = "dropout_offset_shift"

// CheckDropoutShift checks on d that dropout_fwd and dropout_bwd over n
// elements at Offset k give, bit for bit, elements k.. of the same dispatch
// over n+k elements at Offset 0: a data-parallel shard's mask is the slice
// of the whole batch's mask. Both dispatches must drop some elements and
// keep others.
func CheckDropoutShift(d backend.Device) error {
	return safely(func() error {
		const n = 4099
		for _, k := range []int{1, 1000, 3*n + 7} {
			whole := backend.DropoutFwd{N: uint32(n + k), Seed: 4242, Step: 5, P: 0.5, Scale: 2}
			part := whole
			part.N, part.Offset = n, uint32(k)
			if err := shifted(d, whole, part, k); err != nil {
				return err
			}
			if err := shifted(d, backend.DropoutBwd(whole), backend.DropoutBwd(part), k); err != nil {
				return err
			}
		}
		return nil
	})
}

// shifted runs whole on x[0:whole.N] and part on x[k:] and compares.
func shifted(d backend.Device, whole, part backend.Elementwise, k int) error {
	x := make([]float32, whole.Elements())
	for i := range x {
		x[i] = float32(i%97) + 1
	}
	all, err := dispatch1(d, whole, x)
	if err != nil {
		return err
	}
	got, err := dispatch1(d, part, x[k:])
	if err != nil {
		return err
	}
	kept := 0
	for i, v := range got {
		if math.Float32bits(v) != math.Float32bits(all[k+i]) {
			return fmt.Errorf("%s at Offset %d: element %d is %v, element %d of the dispatch at Offset 0 is %v",
				part.Kernel(), k, i, v, k+i, all[k+i])
		}
		if v != 0 {
			kept++
		}
	}
	if kept == 0 || kept == len(got) {
		return fmt.Errorf("%s at Offset %d: %d of %d elements kept, want some of each", part.Kernel(), k, kept, len(got))
	}
	return nil
}

// dispatch1 runs the two-buffer dropout p on d with input x and returns the
// output.
func dispatch1(d backend.Device, p backend.Elementwise, x []float32) ([]float32, error) {
	n := p.Elements()
	in, err := d.Alloc(n)
	if err != nil {
		return nil, err
	}
	defer in.Release()
	out, err := d.Alloc(n)
	if err != nil {
		return nil, err
	}
	defer out.Release()
	if err := d.Write(in, 0, x[:n]); err != nil {
		return nil, err
	}
	if err := d.Dispatch(p, in, out); err != nil {
		return nil, err
	}
	y := make([]float32, n)
	if err := d.Read(out, 0, y); err != nil {
		return nil, err
	}
	return y, nil
}
