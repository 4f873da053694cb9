package vulkan

import (
	"fmt"
	"math"

	"github.com/crossgrad/crossgrad/backend"
)

// resizeTableWords lays out the table resize_bilinear.comp reads: tapsH,
// tapsV, then per output column its first input column and tapsH weights,
// then per output row its first input row and tapsV weights (zero-padded).
func resizeTableWords(inH, inW, outH, outW int) []uint32 {
	hFirst, hW := backend.PILBilinearCoeffs(inW, outW)
	vFirst, vW := backend.PILBilinearCoeffs(inH, outH)
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
