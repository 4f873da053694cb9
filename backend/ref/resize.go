package ref

import (
	"math"

	"github.com/crossgrad/crossgrad/backend"
)

const pilPrecisionBits = backend.PILPrecisionBits

// pilCoeffs are the taps of one output coordinate: input positions
// start .. start+len(w)-1 with fixed-point weights w.
type pilCoeffs struct {
	start int
	w     []int32
}

func pilBilinear(in, out int) []pilCoeffs {
	first, weights := backend.PILBilinearCoeffs(in, out)
	cs := make([]pilCoeffs, out)
	for o := range cs {
		cs[o] = pilCoeffs{start: first[o], w: weights[o]}
	}
	return cs
}

// pilClip8 is PIL's clip8: the fixed-point sum (which includes the rounding
// half 2^21) shifted down and clamped to 0..255.
func pilClip8(ss int64) uint8 {
	if ss >= 256<<pilPrecisionBits {
		return 255
	}
	if ss <= 0 {
		return 0
	}
	return uint8(ss >> pilPrecisionBits)
}

// pilResample applies one pass of taps to a line of samples read through
// at, rounding as PIL's 8-bit resampler does.
func pilResample(c pilCoeffs, at func(j int) uint8) uint8 {
	ss := int64(1) << (pilPrecisionBits - 1)
	for j, w := range c.w {
		ss += int64(at(c.start+j)) * int64(w)
	}
	return pilClip8(ss)
}

// ResizeBilinear resizes N single-channel 8-bit images of InH x InW to
// OutH x OutW exactly as torchvision's Resize on a PIL 'L' image
// (Image.resize with BILINEAR, no reducing_gap) followed by ToTensor: PIL's
// separable fixed-point resampler (see backend.PILBilinearCoeffs) runs a horizontal
// pass over every input row, each result rounded and clamped to uint8, then a
// vertical pass over those rows, rounded and clamped to uint8; dst is that
// byte divided by 255 in float32. A pass whose size does not change is the
// identity, as in PIL.
//
// With Packed != 0, src holds the bytes packed four per float32 word (see
// backend.PackBytes), image i starting at byte i*InH*InW; otherwise src holds
// one value per float, expected to be an integer in 0..255 (others are
// rounded to nearest and clamped, NaN reads as 0). src[SrcLen()] is read;
// dst[N*OutH*OutW] is overwritten.
func ResizeBilinear(p backend.ResizeBilinear, src, dst []float32) {
	n, ih, iw, oh, ow := int(p.N), int(p.InH), int(p.InW), int(p.OutH), int(p.OutW)
	hc, vc := pilBilinear(iw, ow), pilBilinear(ih, oh)
	parallelFor(n, func(img int) {
		base := img * ih * iw
		pixel := func(i int) uint8 {
			if p.Packed != 0 {
				return backend.UnpackByte(src, base+i)
			}
			v := src[base+i]
			if !(v > 0) {
				return 0
			}
			return uint8(min(math.Round(float64(v)), 255))
		}
		tmp := make([]uint8, ih*ow) // horizontal pass: ih rows of ow
		for y := range ih {
			for x := range ow {
				tmp[y*ow+x] = pilResample(hc[x], func(j int) uint8 { return pixel(y*iw + j) })
			}
		}
		out := dst[img*oh*ow:][:oh*ow]
		for y := range oh {
			for x := range ow {
				b := pilResample(vc[y], func(j int) uint8 { return tmp[j*ow+x] })
				out[y*ow+x] = float32(b) / 255
			}
		}
	})
}
