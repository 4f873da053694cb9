package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"testing"
)

// idxSeeds are valid, truncated and hostile IDX streams (uncompressed).
func idxSeeds() [][]byte {
	pix, labels := synth(3, 4, 5, 1)
	img := idxBytes(MagicImages, []uint32{3, 4, 5}, pix)
	lbl := idxBytes(MagicLabels, []uint32{3}, labels)
	return [][]byte{
		img, lbl,
		img[:len(img)-1],                   // payload one byte short
		append(img[:len(img):len(img)], 0), // trailing byte
		img[:9],                            // header cut in a dimension
		{},
		idxBytes(MagicImages, []uint32{MaxImages, MaxDim, MaxDim}, nil),   // over MaxBytes
		idxBytes(MagicImages, []uint32{0xffffffff, 1, 1}, nil),            // huge count
		idxBytes(MagicImages, []uint32{1 << 20, 28, 28}, []byte{1, 2, 3}), // big header, tiny file
		idxBytes(MagicImages, []uint32{1, 0, 28}, nil),                    // zero dimension
		idxBytes(0x00000d03, []uint32{1, 1, 1}, []byte{0}),                // float32 element type
		idxBytes(MagicLabels, []uint32{2}, []byte{3, 200}),                // label over NumClasses
		idxBytes(0x00000800|0xff, nil, nil),                               // 255 dimensions
	}
}

// gzipped compresses b (or returns nil on a writer error, which cannot
// happen with a bytes.Buffer).
func gzipped(b []byte, level int) []byte {
	var out bytes.Buffer
	w, err := gzip.NewWriterLevel(&out, level)
	if err != nil {
		return nil
	}
	_, _ = w.Write(b)
	_ = w.Close()
	return out.Bytes()
}

// checkDecoded fails when a successful decode is inconsistent or holds more
// than the header allows.
func checkDecoded(t *testing.T, magic uint32, dims []int, payload []byte) {
	t.Helper()
	if len(dims) != int(magic&0xff) {
		t.Fatalf("magic 0x%x: %d dimensions", magic, len(dims))
	}
	total := 1
	for _, d := range dims {
		if d < 1 || d > MaxImages {
			t.Fatalf("dimension %d accepted", d)
		}
		total *= d
	}
	if total != len(payload) || total > MaxBytes || cap(payload) > total {
		t.Fatalf("dims %v: payload of %d bytes (capacity %d)", dims, len(payload), cap(payload))
	}
}

// FuzzDecodeIDX feeds arbitrary bytes to the IDX decoder (both magics,
// through the same stream layer as files): it must return an error or a
// payload matching the header, never panic, and never allocate more than
// the header's bounded size or what the input holds.
func FuzzDecodeIDX(f *testing.F) {
	for _, s := range idxSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, magic := range []uint32{MagicImages, MagicLabels} {
			dims, payload, err := decodeFile(bytes.NewReader(b), magic)
			if err != nil {
				continue
			}
			checkDecoded(t, magic, dims, payload)
			if len(payload) > len(b) {
				t.Fatalf("%d payload bytes from a %d-byte uncompressed input", len(payload), len(b))
			}
		}
	})
}

// FuzzGzipIDX feeds arbitrary bytes behind a gzip magic to the stream
// layer: corrupt headers, bad CRCs, truncated members, concatenated members
// and high-ratio streams must end in an error or a consistent payload.
func FuzzGzipIDX(f *testing.F) {
	for _, s := range idxSeeds() {
		f.Add(gzipped(s, gzip.BestCompression))
	}
	pix, _ := synth(2, 3, 3, 9)
	img := idxBytes(MagicImages, []uint32{2, 3, 3}, pix)
	g := gzipped(img, gzip.DefaultCompression)
	f.Add(g[:len(g)-3])                         // trailer cut
	f.Add(append(append([]byte{}, g...), g...)) // two members: trailing payload
	f.Add(gzipped(make([]byte, 1<<16), 9))      // 64 KiB of zeros: bad magic after inflating
	bad := append([]byte{}, g...)
	bad[len(bad)-8] ^= 0xff // CRC
	f.Add(bad)
	var hdr bytes.Buffer
	_ = binary.Write(&hdr, binary.BigEndian, []uint32{MagicImages, 1 << 16, 64, 64})
	f.Add(gzipped(append(hdr.Bytes(), make([]byte, 4096)...), 9)) // claims 256 MiB, holds 4 KiB
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			b = append([]byte{0x1f, 0x8b}, b...)
		}
		dims, payload, err := decodeFile(bytes.NewReader(b), MagicImages)
		if err != nil {
			return
		}
		checkDecoded(t, MagicImages, dims, payload)
	})
}
