package backend

import (
	"encoding/binary"
	"fmt"
	"math"
)

// MaxElements bounds every buffer and params-derived size (2^31-1 floats).
const MaxElements = math.MaxInt32

// CheckDispatch validates p and that bufs match p.BufferSizes() in count and
// size. Every backend calls it before queueing a kernel, so a kernel never
// reads or writes out of bounds.
func CheckDispatch(p Params, bufs []Buffer) error {
	if p == nil {
		return fmt.Errorf("dispatch: nil params")
	}
	k := p.Kernel()
	if err := p.Validate(); err != nil {
		return fmt.Errorf("dispatch %s: %w", k, err)
	}
	want := p.BufferSizes()
	if len(bufs) != len(want) {
		return fmt.Errorf("dispatch %s: got %d buffers, the kernel takes %d", k, len(bufs), len(want))
	}
	for i, b := range bufs {
		if b == nil {
			return fmt.Errorf("dispatch %s: buffer %d is nil", k, i)
		}
		if want[i] < 0 || want[i] > MaxElements {
			return fmt.Errorf("dispatch %s: buffer %d would need %d elements, over the limit of %d", k, i, want[i], MaxElements)
		}
		if b.Len() < want[i] {
			return fmt.Errorf("dispatch %s: buffer %d holds %d elements, params need %d", k, i, b.Len(), want[i])
		}
	}
	return nil
}

// CheckRange validates a Read or Write of n elements at offset of a buffer
// holding size elements.
func CheckRange(op string, size, offset, n int) error {
	if offset < 0 || n < 0 || offset+n > size {
		return fmt.Errorf("%s: range [%d, %d) outside buffer of %d elements", op, offset, offset+n, size)
	}
	return nil
}

// PackBytes packs bytes four per float32 word, little-endian, zero-padding the
// last word, so byte data can travel through float32 buffers bit-exactly.
func PackBytes(b []byte) []float32 {
	out := make([]float32, (len(b)+3)/4)
	var w [4]byte
	for i := range out {
		w = [4]byte{}
		copy(w[:], b[i*4:])
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(w[:]))
	}
	return out
}

// UnpackByte returns byte i of data packed by PackBytes.
func UnpackByte(packed []float32, i int) byte {
	return byte(math.Float32bits(packed[i/4]) >> (8 * (i % 4)))
}

// mul multiplies sizes in int (no uint32 overflow); a product that does not
// fit MaxElements saturates just above it so CheckDispatch rejects it.
func mul(v ...uint32) int {
	p := 1
	for _, x := range v {
		p *= int(x)
		if p > MaxElements {
			return MaxElements + 1
		}
	}
	return p
}
