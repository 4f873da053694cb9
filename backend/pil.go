package backend

import "math"

// PILPrecisionBits is PIL's fixed-point precision of 8-bit resampling
// (PRECISION_BITS = 32 - 8 - 2 in libImaging/Resample.c).
const PILPrecisionBits = 22

// PILBilinearCoeffs returns, per output coordinate o in [0, out), the first
// input position and the fixed-point weights (scaled by 2^22) that PIL's
// precompute_coeffs and normalize_coeffs_8bpc give for the BILINEAR filter
// resizing in to out positions, computed in float64:
//
//	scale = in/out; fs = max(scale, 1); support = fs
//	centre = (o+0.5)*scale
//	first = max(0, trunc(centre-support+0.5)); end = min(in, trunc(centre+support+0.5))
//	w(j) = max(0, 1-|(j+0.5-centre)/fs|) for j in [first, end), normalised to sum 1
//	fixed = trunc(w*2^22 + 0.5) (weights are never negative)
//
// Every backend's resize_bilinear uses these taps, so all agree bit for bit.
// The result is owned by the caller.
func PILBilinearCoeffs(in, out int) (first []int, weights [][]int32) {
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
			fixed[j] = int32(0.5 + w*(1<<PILPrecisionBits))
		}
		first[o], weights[o] = lo, fixed
	}
	return first, weights
}
