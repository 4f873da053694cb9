package backend

// KCountNonfinite names CountNonfinite.
const KCountNonfinite Kernel = "count_nonfinite"

// CountNonfinite counts the elements of x that are NaN or infinite (the
// float32 exponent bits all set) and writes the count, converted to float32
// (exact up to 2^24), to out[Slot]; no other element of out is written. The
// count is an integer sum, so every backend gets the same result whatever its
// summation order. Training runs it over every parameter and Adam moment,
// one slot each, and reads the slots back in one small Read.
// Buffers: x[N], out[Slot+1].
type CountNonfinite struct{ N, Slot uint32 }

// Kernel implements Params.
func (CountNonfinite) Kernel() Kernel { return KCountNonfinite }

// BufferSizes implements Params.
func (p CountNonfinite) BufferSizes() []int { return []int{int(p.N), int(p.Slot) + 1} }

// Buffers implements Params: out is written in one slot and kept elsewhere.
func (CountNonfinite) Buffers() []Buf { return []Buf{in("x"), inout("out")} }

// Work implements Params: x is read and one element of out written.
func (p CountNonfinite) Work() Work { return Work{Bytes: 4 * (float64(p.N) + 1)} }

// Shape implements Params.
func (p CountNonfinite) Shape() string { return elems(p.N) }

// Validate implements Params.
func (p CountNonfinite) Validate() error { return positive("count_nonfinite", "N", p.N) }
