package backend

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

// Validate implements Params.
func (p CountNonfinite) Validate() error { return positive("count_nonfinite", "N", p.N) }
