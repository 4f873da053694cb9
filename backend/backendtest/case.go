package backendtest

import (
	"hash/fnv"
	"math"
	"math/rand"

	"github.com/crossgrad/crossgrad/backend"
)

// Gen builds the n initial float32 values of one buffer from r (seeded per
// case, so inputs are reproducible). The returned slice has length n and is
// owned by the caller.
type Gen func(r *rand.Rand, n int) []float32

// Case is one dispatch of the suite: a kernel's params and how to initialise
// each of its buffers. The kernel's roles (Params.Buffers) say which buffers
// are compared with the reference afterwards (Outputs) and which must come
// back unchanged (ReadOnly).
type Case struct {
	// Name is unique among the cases of its kernel, e.g. "alexnet_conv2".
	Name string
	// Params is the dispatch; its Kernel() names the kernel under test.
	Params backend.Params
	// Init has one entry per buffer in dispatch order (p.BufferSizes()). A nil
	// entry poisons the buffer with NaN before the dispatch, so the kernel
	// must overwrite all of it: the entry of every backend.Write buffer is
	// nil, that of every backend.Read buffer is not.
	Init []Gen
	// Alias maps a slot to an earlier slot whose buffer it reuses (in-place
	// variants such as relu with x == y; both must be InPlace in the roles);
	// nil when every slot is distinct.
	Alias map[int]int
	// Slack is the number of extra elements allocated after every buffer's
	// required size. They hold SlackValue and must still hold it afterwards,
	// which catches writes out of bounds and kernels that size their work
	// from Buffer.Len() instead of the params.
	Slack int
	// Large cases take seconds on the reference device; Options.Short skips
	// them.
	Large bool
}

// SlackValue fills the Case.Slack elements after each buffer.
const SlackValue float32 = 7.25

// Kernel is the kernel the case dispatches.
func (c Case) Kernel() backend.Kernel { return c.Params.Kernel() }

// FullName is "kernel/name", the name Options.Filter and RunTest subtests use.
func (c Case) FullName() string { return string(c.Kernel()) + "/" + c.Name }

// Outputs lists the buffer slots the kernel writes (Write and ReadWrite
// roles), compared with the reference after the dispatch.
func (c Case) Outputs() []int {
	var out []int
	for i, b := range c.Params.Buffers() {
		if b.Access.Writes() {
			out = append(out, i)
		}
	}
	return out
}

// ReadOnly lists the buffer slots the kernel only reads and whose buffer no
// written slot shares: they must hold their initial contents, slack
// included, after the dispatch.
func (c Case) ReadOnly() []int {
	roles := c.Params.Buffers()
	written := map[int]bool{}
	for i, b := range roles {
		if b.Access.Writes() {
			written[c.root(i)] = true
		}
	}
	var out []int
	for i, b := range roles {
		if !b.Access.Writes() && !written[c.root(i)] {
			out = append(out, i)
		}
	}
	return out
}

// root is the slot whose buffer slot i uses.
func (c Case) root(i int) int {
	for n := 0; n <= len(c.Alias); n++ {
		j, ok := c.Alias[i]
		if !ok {
			break
		}
		i = j
	}
	return i
}

// Tolerance is the case's tolerance: ToleranceFor(c.Params).
func (c Case) Tolerance() Tolerance { return ToleranceFor(c.Params) }

// Inputs returns the initial contents of every buffer slot, each of length
// BufferSizes()[i]+Slack: generated values (or NaN for output-only slots)
// followed by SlackValue. An aliased slot shares its target's slice. The
// random stream is seeded by a hash of FullName, so every call and every
// device sees identical data.
func (c Case) Inputs() [][]float32 {
	h := fnv.New64a()
	h.Write([]byte(c.FullName()))
	r := rand.New(rand.NewSource(int64(h.Sum64())))
	sizes := c.Params.BufferSizes()
	out := make([][]float32, len(sizes))
	for i, n := range sizes {
		if j, ok := c.Alias[i]; ok {
			out[i] = out[j]
			continue
		}
		var v []float32
		if i < len(c.Init) && c.Init[i] != nil {
			v = c.Init[i](r, n)
		} else {
			v = make([]float32, n)
			for k := range v {
				v[k] = float32(math.NaN())
			}
		}
		for range c.Slack {
			v = append(v, SlackValue)
		}
		out[i] = v
	}
	return out
}

// Uniform draws values uniformly from [lo, hi).
func Uniform(lo, hi float64) Gen {
	return func(r *rand.Rand, n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(lo + (hi-lo)*r.Float64())
		}
		return v
	}
}

// Symmetric draws values uniformly from [-a, a).
func Symmetric(a float64) Gen { return Uniform(-a, a) }

// FanIn draws uniformly from [-1/sqrt(n), 1/sqrt(n)), PyTorch's default
// Linear/Conv2d initialisation, so a reduction over n terms stays of order 1.
func FanIn(n int) Gen { return Symmetric(1 / math.Sqrt(float64(max(n, 1)))) }

// AwayFromZero draws |v| uniformly from [lo, hi) with a random sign.
func AwayFromZero(lo, hi float64) Gen {
	return func(r *rand.Rand, n int) []float32 {
		v := Uniform(lo, hi)(r, n)
		for i := range v {
			if r.Intn(2) == 0 {
				v[i] = -v[i]
			}
		}
		return v
	}
}

// WithZeros replaces a fraction frac of g's values by exact zeros.
func WithZeros(g Gen, frac float64) Gen {
	return func(r *rand.Rand, n int) []float32 {
		v := g(r, n)
		for i := range v {
			if r.Float64() < frac {
				v[i] = 0
			}
		}
		return v
	}
}

// Ints draws integers uniformly from [lo, hi) as floats (ties for max and
// argmax semantics; class labels).
func Ints(lo, hi int) Gen {
	return func(r *rand.Rand, n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(lo + r.Intn(hi-lo))
		}
		return v
	}
}

// Relued draws from g and clamps negatives to 0 (a relu forward output).
func Relued(g Gen) Gen {
	return func(r *rand.Rand, n int) []float32 {
		v := g(r, n)
		for i := range v {
			v[i] = max(v[i], 0)
		}
		return v
	}
}

// Bytes draws random uint8 pixels of count images: one value 0..255 per
// float, or packed four per word as backend.PackBytes when packed.
func Bytes(count int, packed bool) Gen {
	return func(r *rand.Rand, n int) []float32 {
		b := make([]byte, count)
		r.Read(b)
		var v []float32
		if packed {
			v = backend.PackBytes(b)
		} else {
			v = make([]float32, count)
			for i, x := range b {
				v[i] = float32(x)
			}
		}
		return append(v, make([]float32, max(0, n-len(v)))...)[:n]
	}
}

// PoolIdx draws, for every output of pooling geometry g, a random position
// h*W+w of the input plane inside that output's window (padding excluded),
// as maxpool_bwd's idx buffer.
func PoolIdx(g backend.Pool2DShape) Gen {
	return func(r *rand.Rand, n int) []float32 {
		v := make([]float32, n)
		i := 0
		for range int(g.N * g.C) {
			for oh := range int(g.OH) {
				for ow := range int(g.OW) {
					h0, h1 := window(oh, g.StrideH, g.PadH, g.KH, g.H)
					w0, w1 := window(ow, g.StrideW, g.PadW, g.KW, g.W)
					h := h0 + r.Intn(h1-h0)
					w := w0 + r.Intn(w1-w0)
					v[i] = float32(h*int(g.W) + w)
					i++
				}
			}
		}
		return v
	}
}

// window is the input range [lo, hi) of output position o, clipped to the
// input of size n.
func window(o int, stride, pad, k, n uint32) (int, int) {
	lo := o*int(stride) - int(pad)
	hi := lo + int(k)
	return max(lo, 0), min(hi, int(n))
}
