package train

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseInvert(t *testing.T) {
	for in, want := range map[string]Invert{"auto": InvertAuto, "on": InvertOn, "TRUE": InvertOn, "yes": InvertOn, "off": InvertOff, "false": InvertOff, "no": InvertOff} {
		got, err := ParseInvert(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := ParseInvert("maybe")
	require.ErrorContains(t, err, `invert "maybe": want auto, on or off`)
}

// darkBordered returns a 28x28 image with a black border and random
// content inside, like a Fashion-MNIST image.
func darkBordered(seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	img := make([]byte, 784)
	for y := 2; y < 26; y++ {
		for x := 2; x < 26; x++ {
			img[y*28+x] = byte(r.IntN(256))
		}
	}
	return img
}

func TestPrepare(t *testing.T) {
	src := darkBordered(1)
	got, inv := prepare(src, 28, 28, InvertAuto)
	assert.False(t, inv)
	assert.Equal(t, src, got, "28x28 images on black pass unchanged")
	got, inv = prepare(src, 28, 28, InvertOn)
	assert.True(t, inv)
	assert.Equal(t, byte(255-src[300]), got[300])

	// 2x2 blocks of every pixel: the area average gives back the original.
	big := make([]byte, 56*56)
	for y := range 56 {
		for x := range 56 {
			big[y*56+x] = src[(y/2)*28+x/2]
		}
	}
	got, _ = prepare(big, 56, 56, InvertOff)
	assert.Equal(t, src, got)

	// Enlarging a constant image keeps it constant.
	small := bytes.Repeat([]byte{200}, 14*14)
	got, inv = prepare(small, 14, 14, InvertOff)
	assert.False(t, inv)
	assert.Equal(t, bytes.Repeat([]byte{200}, 784), got)

	// A wide image is centred on a black square: 28x14 white gives rows
	// 7..20 white.
	wide := bytes.Repeat([]byte{255}, 28*14)
	got, _ = prepare(wide, 28, 14, InvertOff)
	for y := range 28 {
		want := byte(0)
		if y >= 7 && y < 21 {
			want = 255
		}
		assert.Equal(t, bytes.Repeat([]byte{want}, 28), got[y*28:(y+1)*28], "row %d", y)
	}

	// A dark object on a white background is inverted by auto.
	photo := bytes.Repeat([]byte{250}, 84*84)
	for y := 30; y < 54; y++ {
		for x := 30; x < 54; x++ {
			photo[y*84+x] = 10
		}
	}
	got, inv = prepare(photo, 84, 84, InvertAuto)
	assert.True(t, inv)
	assert.Equal(t, byte(5), got[0])
	assert.Equal(t, byte(245), got[14*28+14])
	_, inv = prepare(photo, 84, 84, InvertOff)
	assert.False(t, inv)
}

func writeImage(t *testing.T, path string, img image.Image) {
	t.Helper()
	var b bytes.Buffer
	if filepath.Ext(path) == ".jpg" {
		require.NoError(t, jpeg.Encode(&b, img, &jpeg.Options{Quality: 100}))
	} else {
		require.NoError(t, png.Encode(&b, img))
	}
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
}

func TestReadImageFile(t *testing.T) {
	dir := t.TempDir()
	src := darkBordered(2)
	gray := &image.Gray{Pix: src, Stride: 28, Rect: image.Rect(0, 0, 28, 28)}
	rgba := image.NewNRGBA(image.Rect(0, 0, 28, 28))
	smooth := image.NewRGBA(image.Rect(0, 0, 56, 56))
	for y := range 28 {
		for x := range 28 {
			v := src[y*28+x]
			rgba.Set(x, y, color.NRGBA{v, v, v, 255})
		}
	}
	rgba.Set(0, 0, color.NRGBA{255, 255, 255, 0}) // transparent: black
	for y := range 56 {
		for x := range 56 {
			v := uint8(4 * min(x, 55-x, y, 55-y))
			smooth.Set(x, y, color.RGBA{v, v, v, 255})
		}
	}
	writeImage(t, filepath.Join(dir, "gray.png"), gray)
	writeImage(t, filepath.Join(dir, "rgba.png"), rgba)
	writeImage(t, filepath.Join(dir, "smooth.jpg"), smooth)

	for _, name := range []string{"gray.png", "rgba.png"} {
		in, err := ReadImageFile(filepath.Join(dir, name), InvertAuto)
		require.NoError(t, err, name)
		assert.Equal(t, src, in.Pixels, name)
		assert.False(t, in.Inverted)
		assert.Equal(t, -1, in.Label)
		assert.Equal(t, filepath.Join(dir, name), in.Name)
	}
	in, err := ReadImageFile(filepath.Join(dir, "smooth.jpg"), InvertOff)
	require.NoError(t, err)
	for y := range 28 {
		for x := range 28 {
			// Mean of the 2x2 block: 4*min(...) averaged, within JPEG error.
			want := 0.0
			for dy := range 2 {
				for dx := range 2 {
					X, Y := 2*x+dx, 2*y+dy
					want += float64(4*min(X, 55-X, Y, 55-Y)) / 4
				}
			}
			assert.InDelta(t, want, float64(in.Pixels[y*28+x]), 6, "pixel %d,%d", x, y)
		}
	}

	_, err = ReadImageFile(filepath.Join(dir, "none.png"), InvertAuto)
	require.ErrorContains(t, err, "none.png does not exist; give the path of a PNG or JPEG file")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.png"), []byte("hello, not an image"), 0o644))
	_, err = ReadImageFile(filepath.Join(dir, "notes.png"), InvertAuto)
	require.ErrorContains(t, err, "notes.png is not a PNG or JPEG image; predict reads PNG and JPEG files, or IDX image files with --idx")
	_, err = ReadImageFile(dir, InvertAuto)
	require.ErrorContains(t, err, "is a folder")
	raw, err := os.ReadFile(filepath.Join(dir, "gray.png"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cut.png"), raw[:len(raw)/2], 0o644))
	_, err = ReadImageFile(filepath.Join(dir, "cut.png"), InvertAuto)
	require.ErrorContains(t, err, "cut.png: corrupt png image")
	writeImage(t, filepath.Join(dir, "huge.png"), image.NewGray(image.Rect(0, 0, MaxImageSide+1, 1)))
	_, err = ReadImageFile(filepath.Join(dir, "huge.png"), InvertAuto)
	require.ErrorContains(t, err, "huge.png is 8193x1; sides of 1 to 8192 pixels are read, scale it down first")
}

// writeIDX writes an uncompressed IDX file.
func writeIDX(t *testing.T, path string, magic uint32, dims []uint32, payload []byte) {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, binary.Write(&b, binary.BigEndian, append([]uint32{magic}, dims...)))
	b.Write(payload)
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
}

func TestReadIDXImages(t *testing.T) {
	dir := t.TempDir()
	a, b := darkBordered(3), darkBordered(4)
	imgs := filepath.Join(dir, "t10k-images-idx3-ubyte")
	writeIDX(t, imgs, 0x803, []uint32{2, 28, 28}, append(append([]byte{}, a...), b...))
	writeIDX(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), 0x801, []uint32{2}, []byte{7, 9})

	ins, err := ReadIDXImages(imgs, []int{1, 0, 1}, InvertAuto)
	require.NoError(t, err)
	require.Len(t, ins, 3)
	assert.Equal(t, "idx:1", ins[0].Name)
	assert.Equal(t, b, ins[0].Pixels)
	assert.Equal(t, 9, ins[0].Label)
	assert.Equal(t, a, ins[1].Pixels)
	assert.Equal(t, 7, ins[1].Label)
	assert.False(t, ins[1].Inverted)

	// Without a labels file beside it the labels are unknown.
	other := filepath.Join(dir, "mine.idx")
	writeIDX(t, other, 0x803, []uint32{1, 28, 28}, a)
	ins, err = ReadIDXImages(other, []int{0}, InvertOn)
	require.NoError(t, err)
	assert.Equal(t, -1, ins[0].Label)
	assert.True(t, ins[0].Inverted)
	assert.Equal(t, byte(255), ins[0].Pixels[0])

	_, err = ReadIDXImages(imgs, []int{2}, InvertAuto)
	require.ErrorContains(t, err, "image index 2 is out of range: "+imgs+" holds 2 images; give an --index from 0 to 1")
	_, err = ReadIDXImages(filepath.Join(dir, "none.gz"), []int{0}, InvertAuto)
	require.ErrorContains(t, err, "IDX file "+filepath.Join(dir, "none.gz")+" does not exist; give --idx an IDX image file such as /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
	_, err = ReadIDXImages(filepath.Join(dir, "t10k-labels-idx1-ubyte"), []int{0}, InvertAuto)
	require.ErrorContains(t, err, "bad IDX magic 0x00000801, want 0x00000803")
}
