package backend

// Access is how a kernel uses one of its buffers.
type Access uint8

// The buffer accesses.
const (
	// Read buffers are only read; the kernel must leave them unchanged.
	Read Access = iota + 1
	// Write buffers are overwritten over their whole required size and
	// never read: what they held before the dispatch cannot matter.
	Write
	// ReadWrite buffers are read and written, in whole (an in-place update,
	// an accumulation) or in part (one slot of a table).
	ReadWrite
)

// Reads reports whether the kernel reads a buffer of access a.
func (a Access) Reads() bool { return a == Read || a == ReadWrite }

// Writes reports whether the kernel writes a buffer of access a.
func (a Access) Writes() bool { return a == Write || a == ReadWrite }

// String names the access as the docs do: "read", "write", "read-write".
func (a Access) String() string {
	switch a {
	case Read:
		return "read"
	case Write:
		return "write"
	case ReadWrite:
		return "read-write"
	}
	return "unknown access"
}

// Buf is the role of one buffer argument of a kernel.
type Buf struct {
	// Name is the argument's name in the params' doc comment (x, dy, ...).
	Name string
	// Access says whether the kernel reads, writes or updates the buffer.
	Access Access
	// InPlace buffers may be the same buffer as any other InPlace buffer of
	// the dispatch: the kernel computes element i of its outputs from
	// element i of its inputs only. Distinct buffers are required otherwise.
	InPlace bool
}

func in(name string) Buf    { return Buf{Name: name, Access: Read} }
func out(name string) Buf   { return Buf{Name: name, Access: Write} }
func inout(name string) Buf { return Buf{Name: name, Access: ReadWrite} }

// inPlace marks every buffer of bs InPlace.
func inPlace(bs ...Buf) []Buf {
	for i := range bs {
		bs[i].InPlace = true
	}
	return bs
}

// MayShare reports whether buffers i and j of a dispatch of p may be the
// same buffer.
func MayShare(p Params, i, j int) bool {
	bs := p.Buffers()
	return i == j || (bs[i].InPlace && bs[j].InPlace)
}

// Elementwise is implemented by the params of kernels over N independent
// elements: every buffer holds N elements, element i of the outputs depends
// on element i of the inputs only (and, for dropout, on the index i through
// the mask), so a backend may run the dispatch as windows of fewer elements.
type Elementwise interface {
	Params
	// Elements is N.
	Elements() int
	// WithElements returns a copy covering n elements. A window starting at
	// element off of a dropout dispatch must also draw the mask at indices
	// off+i, as the backends do.
	WithElements(n int) Elementwise
}

// Work is the arithmetic and the minimum memory traffic of one dispatch:
// what GFLOP/s and GB/s are computed from.
type Work struct {
	// FLOP counts multiply-adds as two; 0 for kernels that only move data
	// (their cost is Bytes).
	FLOP float64
	// Bytes is the traffic of reading every input once and writing every
	// output once (float32 elements; a lower bound for the real traffic).
	Bytes float64
	// Compute marks kernels held to the FMA ceiling (convolutions, GEMM);
	// the others are held to the copy ceiling.
	Compute bool
}

// Add returns the summed work of w and o (Compute if either is).
func (w Work) Add(o Work) Work {
	return Work{FLOP: w.FLOP + o.FLOP, Bytes: w.Bytes + o.Bytes, Compute: w.Compute || o.Compute}
}

// streamed is the work of a kernel that reads each of its read buffers and
// writes each of its written buffers once over their required sizes.
func streamed(p Params) Work {
	sizes := p.BufferSizes()
	var b float64
	for i, r := range p.Buffers() {
		if r.Access.Reads() {
			b += 4 * float64(sizes[i])
		}
		if r.Access.Writes() {
			b += 4 * float64(sizes[i])
		}
	}
	return Work{Bytes: b}
}

// computed is streamed plus flop floating-point operations, held to the FMA
// ceiling.
func computed(p Params, flop float64) Work {
	w := streamed(p)
	w.FLOP, w.Compute = flop, true
	return w
}

// product multiplies sizes in float64 (no overflow).
func product(v ...uint32) float64 {
	p := 1.0
	for _, x := range v {
		p *= float64(x)
	}
	return p
}
