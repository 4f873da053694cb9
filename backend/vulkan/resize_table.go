package vulkan

import (
	"fmt"
	"math"

	"github.com/crossgrad/crossgrad/backend"
)

// pilPrecisionBits is PIL's fixed-point precision of 8-bit resampling.
const pilPrecisionBits = 22

// pilCoeffs is PIL's precompute_coeffs + normalize_coeffs_8bpc for the
// BILINEAR filter resizing in to out positions, in float64 as backend/ref
// (ref.PILBilinearCoeffs; a test checks they agree): per output position the
// first input position and the weights scaled by 2^22.
func pilCoeffs(in, out int) (first []int, weights [][]int32) {
	scale := float64(in) / float64(out)
	fs := max(scale, 1)
	first = make([]int, out)
	weights = make([][]int32, out)
	for o := range out {
		centre := (float64(o) + 0.5) * scale
		lo := max(int(centre-fs+0.5), 0)
		hi := min(int(centre+fs+0.5), in)
		ws := make([]float64, max(hi-lo, 0))
		var sum float64
		for j := range ws {
			if x := math.Abs((float64(j+lo) - centre + 0.5) / fs); x < 1 {
				ws[j] = 1 - x
			}
			sum += ws[j]
		}
		fixed := make([]int32, len(ws))
		for j, w := range ws {
			if sum != 0 {
				w /= sum
			}
			fixed[j] = int32(0.5 + w*(1<<pilPrecisionBits))
		}
		first[o], weights[o] = lo, fixed
	}
	return first, weights
}

// resizeTableWords lays out the table resize_bilinear.comp reads: tapsH,
// tapsV, then per output column its first input column and tapsH weights,
// then per output row its first input row and tapsV weights (zero-padded).
func resizeTableWords(inH, inW, outH, outW int) []uint32 {
	hFirst, hW := pilCoeffs(inW, outW)
	vFirst, vW := pilCoeffs(inH, outH)
	taps := func(ws [][]int32) int {
		n := 0
		for _, w := range ws {
			n = max(n, len(w))
		}
		return n
	}
	th, tv := taps(hW), taps(vW)
	words := []uint32{uint32(th), uint32(tv)}
	add := func(first []int, ws [][]int32, t int) {
		for o := range first {
			words = append(words, uint32(first[o]))
			for j := range t {
				var v int32
				if j < len(ws[o]) {
					v = ws[o][j]
				}
				words = append(words, uint32(v))
			}
		}
	}
	add(hFirst, hW, th)
	add(vFirst, vW, tv)
	return words
}

// resizeKey identifies the coefficient table of one resize geometry.
type resizeKey struct{ inH, inW, outH, outW uint32 }

// maxResizeTables bounds the cached coefficient tables.
const maxResizeTables = 16

// resizeTable returns the internal buffer with the coefficient table of q's
// geometry, uploading it on first use.
func (d *Device) resizeTable(q backend.ResizeBilinear) (*Buffer, error) {
	key := resizeKey{q.InH, q.InW, q.OutH, q.OutW}
	if t := d.tables[key]; t != nil {
		return t, nil
	}
	if len(d.tables) >= maxResizeTables {
		for k, t := range d.tables {
			d.releaseLocked(t)
			delete(d.tables, k)
		}
	}
	words := resizeTableWords(int(q.InH), int(q.InW), int(q.OutH), int(q.OutW))
	data := make([]float32, len(words))
	for i, v := range words {
		data[i] = math.Float32frombits(v)
	}
	t, err := d.allocLocked(len(data), true)
	if err != nil {
		return nil, fmt.Errorf("resize table: %w", err)
	}
	if err := d.writeLocked(t, 0, data); err != nil {
		d.releaseLocked(t)
		return nil, err
	}
	d.tables[key] = t
	return t, nil
}
