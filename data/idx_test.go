package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// idxBytes encodes an IDX file: magic, big-endian dims, payload.
func idxBytes(magic uint32, dims []uint32, payload []byte) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, magic)
	for _, d := range dims {
		_ = binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(payload)
	return b.Bytes()
}

func gz(t *testing.T, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, err := w.Write(raw)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

// synth makes a random set of n images of rows x cols with labels < 10.
func synth(n, rows, cols int, seed uint64) (pix, labels []byte) {
	r := rand.New(rand.NewPCG(seed, 7))
	pix = make([]byte, n*rows*cols)
	for i := range pix {
		pix[i] = byte(r.IntN(256))
	}
	labels = make([]byte, n)
	for i := range labels {
		labels[i] = byte(r.IntN(NumClasses))
	}
	return pix, labels
}

// writeSplit writes a train or test split into dir, gzip-compressed or not.
func writeSplit(t *testing.T, dir string, train, compress bool, n, rows, cols int) (pix, labels []byte) {
	t.Helper()
	pix, labels = synth(n, rows, cols, uint64(n*rows+cols))
	img := idxBytes(MagicImages, []uint32{uint32(n), uint32(rows), uint32(cols)}, pix)
	lbl := idxBytes(MagicLabels, []uint32{uint32(n)}, labels)
	in, ln := fileNames(train, "images")[1], fileNames(train, "labels")[1]
	if compress {
		img, lbl, in, ln = gz(t, img), gz(t, lbl), in+".gz", ln+".gz"
	}
	writeFile(t, dir, in, img)
	writeFile(t, dir, ln, lbl)
	return pix, labels
}

func TestLoadSynthetic(t *testing.T) {
	for _, compress := range []bool{true, false} {
		dir := t.TempDir()
		pix, labels := writeSplit(t, dir, true, compress, 37, 28, 28)
		tpix, tlabels := writeSplit(t, dir, false, compress, 11, 28, 28)

		s, err := Load(dir, true)
		require.NoError(t, err)
		assert.Equal(t, 37, s.N)
		assert.Equal(t, 28, s.Rows)
		assert.Equal(t, 28, s.Cols)
		assert.Equal(t, pix, s.Images)
		assert.Equal(t, labels, s.Labels)
		assert.Equal(t, pix[3*784:4*784], s.Image(3))

		ts, err := Load(dir, false)
		require.NoError(t, err)
		assert.Equal(t, 11, ts.N)
		assert.Equal(t, tpix, ts.Images)
		assert.Equal(t, tlabels, ts.Labels)
	}
}

func TestLoadDottedNames(t *testing.T) {
	dir := t.TempDir()
	pix, labels := synth(3, 28, 28, 1)
	writeFile(t, dir, "t10k-images.idx3-ubyte", idxBytes(MagicImages, []uint32{3, 28, 28}, pix))
	writeFile(t, dir, "t10k-labels.idx1-ubyte", idxBytes(MagicLabels, []uint32{3}, labels))
	s, err := Load(dir, false)
	require.NoError(t, err)
	assert.Equal(t, pix, s.Images)
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope"), true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dataset-fashion-mnist")
	assert.Contains(t, err.Error(), "data_dir")

	dir := t.TempDir()
	_, err = Load(dir, true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "train-images-idx3-ubyte.gz")
	assert.Contains(t, err.Error(), "dataset-fashion-mnist")
	assert.Contains(t, err.Error(), "data_dir")

	f := writeFile(t, dir, "file", []byte("x"))
	_, err = Load(f, true)
	require.ErrorContains(t, err, "not a directory")
}

// loadPair writes the two files raw and loads them.
func loadPair(t *testing.T, img, lbl []byte) (*Set, error) {
	t.Helper()
	dir := t.TempDir()
	return LoadFiles(writeFile(t, dir, "img", img), writeFile(t, dir, "lbl", lbl))
}

func TestLoadRejects(t *testing.T) {
	pix, labels := synth(6, 28, 28, 2)
	img := idxBytes(MagicImages, []uint32{6, 28, 28}, pix)
	lbl := idxBytes(MagicLabels, []uint32{6}, labels)
	corrupt := gz(t, img)
	corrupt[len(corrupt)/2] ^= 0xff
	badCRC := gz(t, img)
	badCRC[len(badCRC)-6] ^= 0xff // inside the CRC-32 trailer
	badLabel := append([]byte(nil), lbl...)
	badLabel[len(badLabel)-2] = 10

	cases := []struct {
		name     string
		img, lbl []byte
		want     string
	}{
		{"ok", img, lbl, ""},
		{"truncated payload", img[:len(img)-1], lbl, "truncated file"},
		{"truncated header", img[:10], lbl, "truncated file"},
		{"empty", nil, lbl, "truncated file"},
		{"truncated gz", gz(t, img)[:30], lbl, "images"},
		{"corrupt gz", corrupt, lbl, "images"},
		{"bad gz crc", badCRC, lbl, "gzip"},
		{"gz garbage header", []byte{0x1f, 0x8b, 0, 0, 0}, lbl, "corrupt gzip"},
		{"wrong magic images", lbl, lbl, "bad IDX magic 0x00000801, want 0x00000803"},
		{"wrong magic labels", img, img, "bad IDX magic 0x00000803, want 0x00000801"},
		{"count mismatch", img, idxBytes(MagicLabels, []uint32{5}, labels[:5]), "6 images but"},
		{"label out of range", img, badLabel, "label 10 of item 4"},
		{"trailing bytes", append(append([]byte(nil), img...), 0), lbl, "trailing bytes"},
		{"zero rows", idxBytes(MagicImages, []uint32{6, 0, 28}, nil), lbl, "dimension 1 is 0"},
		{"huge cols", idxBytes(MagicImages, []uint32{6, 28, 4097}, nil), lbl, "dimension 2 is 4097, want 1..4096"},
		{"not 28x28", idxBytes(MagicImages, []uint32{6, 32, 32}, nil), lbl, "holds 6 images of 32x32; crossgrad needs Fashion-MNIST's 28x28"},
		{"labels trailing bytes", img, append(append([]byte(nil), lbl...), 0), "trailing bytes"},
		{"labels truncated", img, lbl[:len(lbl)-1], "truncated file"},
		{"huge count", idxBytes(MagicImages, []uint32{MaxImages + 1, 28, 28}, nil), lbl, "dimension 0 is 10000001"},
		{"huge payload", idxBytes(MagicImages, []uint32{MaxImages, 4096, 4096}, nil), lbl, "over the"},
		// 1.5e9 bytes claimed, with as many labels, but 0 present: must
		// fail without allocating 1.5 GB (TestLargeClaimTruncated).
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := loadPair(t, c.img, c.lbl)
			if c.want == "" {
				require.NoError(t, err)
				assert.Equal(t, pix, s.Images)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Nil(t, s)
		})
	}
}

func TestErrorNamesFile(t *testing.T) {
	pix, labels := synth(2, 28, 28, 3)
	dir := t.TempDir()
	ip := writeFile(t, dir, "my-images", idxBytes(MagicImages, []uint32{2, 28, 28}, pix[:1000]))
	lp := writeFile(t, dir, "my-labels", idxBytes(MagicLabels, []uint32{2}, labels))
	_, err := LoadFiles(ip, lp)
	require.Error(t, err)
	assert.Contains(t, err.Error(), ip)
	assert.Contains(t, err.Error(), "reinstall")
}

// TestRealDataset loads Debian's dataset-fashion-mnist when installed (CI
// installs it, so there it must be present).
func TestRealDataset(t *testing.T) {
	if testing.Short() {
		t.Skip("loads all 70000 images; runs without -short")
	}
	if _, err := os.Stat(DefaultDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI: %s missing; scripts/setup.sh installs dataset-fashion-mnist", DefaultDir)
		}
		t.Skipf("%s absent (apt-get install dataset-fashion-mnist)", DefaultDir)
	}
	for _, c := range []struct {
		train bool
		n     int
	}{{true, 60000}, {false, 10000}} {
		s, err := Load("", c.train)
		require.NoError(t, err)
		assert.Equal(t, c.n, s.N)
		assert.Equal(t, 28, s.Rows)
		assert.Equal(t, 28, s.Cols)
		assert.Len(t, s.Images, c.n*784)
		var counts [NumClasses]int
		for _, l := range s.Labels {
			counts[l]++
		}
		for k, n := range counts { // Fashion-MNIST is balanced
			assert.Equal(t, c.n/NumClasses, n, "class %d (%s)", k, ClassNames[k])
		}
	}
}
