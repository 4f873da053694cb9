package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// zerosGz gzips an IDX header (magic and dims) followed by zeros bytes of
// zeros: one gzip member for the header, then one compressed 1 MiB block of
// zeros repeated as further members (gzip readers read concatenated members
// as one stream), so a large bomb costs one compression.
func zerosGz(t *testing.T, magic uint32, dims []uint32, zeros int) []byte {
	t.Helper()
	member := func(write func(w io.Writer)) []byte {
		var b bytes.Buffer
		w, err := gzip.NewWriterLevel(&b, gzip.BestSpeed)
		require.NoError(t, err)
		write(w)
		require.NoError(t, w.Close())
		return b.Bytes()
	}
	out := member(func(w io.Writer) {
		require.NoError(t, binary.Write(w, binary.BigEndian, magic))
		require.NoError(t, binary.Write(w, binary.BigEndian, dims))
	})
	const block = 1 << 20
	full := member(func(w io.Writer) { _, err := w.Write(make([]byte, block)); require.NoError(t, err) })
	for ; zeros >= block; zeros -= block {
		out = append(out, full...)
	}
	if zeros > 0 {
		out = append(out, member(func(w io.Writer) { _, err := w.Write(make([]byte, zeros)); require.NoError(t, err) })...)
	}
	return out
}

// allocated returns the bytes f allocates on the heap (TotalAlloc delta).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestLoadRefusesImagesNot28x28(t *testing.T) {
	for _, compress := range []bool{true, false} {
		dir := t.TempDir()
		writeSplit(t, dir, true, compress, 4, 32, 32)
		_, err := Load(dir, true)
		require.Error(t, err)
		name := fileNames(true, "images")[1]
		if compress {
			name += ".gz"
		}
		assert.Contains(t, err.Error(), "data: "+filepath.Join(dir, name)+" holds 4 images of 32x32")
		assert.Contains(t, err.Error(), "28x28")
	}

	// Refused from the header alone, before the (here missing) payload.
	_, err := loadPair(t, idxBytes(MagicImages, []uint32{60000, 28, 27}, nil),
		idxBytes(MagicLabels, []uint32{60000}, nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "holds 60000 images of 28x27")
	assert.NotContains(t, err.Error(), "truncated")
}

// TestLoadCountMismatchFromHeaders: an image file whose header claims 235 MB
// of images (present, in a gzip stream of a few hundred KB) against a 10-label file
// must be refused from the two headers without inflating the images.
func TestLoadCountMismatchFromHeaders(t *testing.T) {
	const n = 300_000
	dir := t.TempDir()
	ip := writeFile(t, dir, "bomb-images.gz", zerosGz(t, MagicImages, []uint32{n, 28, 28}, n*784))
	_, labels := synth(10, 1, 1, 4)
	lp := writeFile(t, dir, "ten-labels", idxBytes(MagicLabels, []uint32{10}, labels))
	var err error
	alloc := allocated(func() { _, err = LoadFiles(ip, lp) })
	require.Error(t, err)
	assert.Contains(t, err.Error(), ip+" holds 300000 images but "+lp+" holds 10 labels")
	assert.Less(t, alloc, uint64(8<<20), "bytes allocated before refusing")
}

// TestLoadOverlongStream: a header claiming 10 images followed by 200 MB of
// zeros (a gzip stream of a few hundred KB) is refused after reading the declared
// payload and one byte more, not the whole stream.
func TestLoadOverlongStream(t *testing.T) {
	const n = 10
	bomb := zerosGz(t, MagicImages, []uint32{n, 28, 28}, 200<<20)
	dir := t.TempDir()
	ip := writeFile(t, dir, "long-images.gz", bomb)
	_, labels := synth(n, 1, 1, 5)
	lp := writeFile(t, dir, "labels", idxBytes(MagicLabels, []uint32{n}, labels))
	var err error
	alloc := allocated(func() { _, err = LoadFiles(ip, lp) })
	require.Error(t, err)
	assert.Contains(t, err.Error(), ip)
	assert.Contains(t, err.Error(), "trailing bytes")
	assert.Less(t, alloc, uint64(8<<20), "bytes allocated before refusing")

	cr := &countingReader{r: bytes.NewReader(bomb)}
	_, _, err = decodeFile(cr, MagicImages)
	require.ErrorContains(t, err, "trailing bytes")
	assert.Less(t, cr.n, len(bomb)/2, "compressed bytes consumed of %d", len(bomb))
}

// TestLargeClaimTruncated: headers agreeing on 2 million images (1.5 GB)
// over an image file that holds none must fail without allocating it.
func TestLargeClaimTruncated(t *testing.T) {
	const n = 2_000_000
	dir := t.TempDir()
	ip := writeFile(t, dir, "img", idxBytes(MagicImages, []uint32{n, 28, 28}, nil))
	lp := writeFile(t, dir, "lbl.gz", zerosGz(t, MagicLabels, []uint32{n}, n))
	var err error
	alloc := allocated(func() { _, err = LoadFiles(ip, lp) })
	require.Error(t, err)
	assert.Contains(t, err.Error(), ip)
	assert.Contains(t, err.Error(), "has 0 of the 1568000000 bytes")
	assert.Less(t, alloc, uint64(3*n), "bytes allocated (the labels are %d)", n)
}
