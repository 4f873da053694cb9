package ref

import (
	"fmt"
	"testing"

	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// resizeBytes runs ResizeBilinear on one image (unpacked and packed, which
// must agree) and returns the output as bytes (value*255).
func resizeBytes(t *testing.T, img []byte, ih, iw, oh, ow int) []byte {
	t.Helper()
	src := make([]float32, len(img))
	for i, b := range img {
		src[i] = float32(b)
	}
	p := backend.ResizeBilinear{N: 1, InH: uint32(ih), InW: uint32(iw), OutH: uint32(oh), OutW: uint32(ow)}
	dst := testutil.NaNSlice(oh * ow)
	require.NoError(t, Run(p, src, dst))
	p.Packed = 1
	dstPacked := testutil.NaNSlice(oh * ow)
	require.NoError(t, Run(p, backend.PackBytes(img), dstPacked))
	require.Equal(t, dst, dstPacked, "packed and unpacked sources differ")
	out := make([]byte, len(dst))
	for i, v := range dst {
		b := byte(v*255 + 0.5)
		require.Equal(t, float32(b)/255, v, "output %d is not a byte/255", i)
		out[i] = b
	}
	return out
}

// Hand-worked: pixels (0,0)=0, (0,1)=100, (1,0)=200, (1,1)=50, rest 0.
// 28 -> 56 (scale 1/2): output 0 takes input 0 alone; output 1 is
// 0.75*in0 + 0.25*in1. Row 0 at x=1: 25. Row 1 at x=1: 150+12.5 = 162.5,
// rounded half up to 163; vertically at y=1: 0.75*25 + 0.25*163 = 59.5 -> 60.
// 28 -> 224 (scale 1/8): outputs 0..3 take input 0 alone, output 4 is
// 0.9375*in0 + 0.0625*in1, output 11 is 0.0625*in0 + 0.9375*in1.
// (0,4): 6.25 -> 6; (0,11): 93.75 -> 94; (4,4): rows give 6 and
// 187.5+3.125 -> 191, then 0.9375*6 + 0.0625*191 = 17.5625 -> 18.
// PIL 9.4 gives the same five values.
func TestResizeHandWorked(t *testing.T) {
	img := make([]byte, 28*28)
	img[0], img[1], img[28], img[29] = 0, 100, 200, 50
	o := resizeBytes(t, img, 28, 28, 56, 56)
	assert.Equal(t, byte(0), o[0])
	assert.Equal(t, byte(25), o[0*56+1])
	assert.Equal(t, byte(60), o[1*56+1])
	o = resizeBytes(t, img, 28, 28, 224, 224)
	assert.Equal(t, []byte{0, 0, 0, 0, 6}, o[:5])
	assert.Equal(t, byte(94), o[0*224+11])
	assert.Equal(t, byte(18), o[4*224+4])
}

// goldenImage is the test image of the PIL golden values below.
func goldenImage(h, w int) []byte {
	out := make([]byte, h*w)
	for y := range h {
		for x := range w {
			out[y*w+x] = byte((x*x*7 + y*13 + x*y*3 + (x ^ y)) % 256)
		}
	}
	return out
}

type pix struct{ y, x, v int }

// Golden values from Pillow 9.4.0 (Debian 12 python3-pil):
//
//	im = Image.frombytes('L', (iw, ih), goldenImage(ih, iw))
//	out = im.resize((ow, oh), Image.BILINEAR).tobytes()
//	sum(out), sum((i+1)*b for i, b in enumerate(out)) % 2**32, some pixels
var pilGolden = []struct {
	ih, iw, oh, ow int
	sum, wsum      uint64
	pixels         []pix
}{
	{28, 28, 56, 56, 388260, 607492608, []pix{{0, 0, 0}, {1, 1, 6}, {28, 18, 124}, {55, 55, 217}, {54, 1, 141}}},
	{28, 28, 224, 224, 6200280, 549575204, []pix{{0, 0, 0}, {1, 1, 0}, {112, 74, 110}, {223, 223, 217}, {222, 1, 122}}},
	{28, 28, 9, 9, 10027, 409744, []pix{{0, 0, 45}, {1, 1, 133}, {4, 3, 129}, {8, 8, 106}, {7, 1, 132}}},
	{28, 28, 17, 40, 83968, 28546473, []pix{{0, 0, 6}, {1, 1, 35}, {8, 13, 94}, {16, 39, 178}, {15, 1, 140}}},
	{13, 10, 5, 23, 13845, 869819, []pix{{0, 0, 15}, {1, 1, 50}, {2, 7, 188}, {4, 22, 163}, {3, 1, 126}}},
	{28, 28, 28, 28, 96836, 37918808, []pix{{0, 0, 0}, {1, 1, 23}, {14, 9, 110}, {27, 27, 217}, {26, 1, 194}}},
}

func TestResizeMatchesPIL(t *testing.T) {
	for _, g := range pilGolden {
		t.Run(fmt.Sprintf("%dx%d_to_%dx%d", g.ih, g.iw, g.oh, g.ow), func(t *testing.T) {
			img := goldenImage(g.ih, g.iw)
			o := resizeBytes(t, img, g.ih, g.iw, g.oh, g.ow)
			var sum, wsum uint64
			for i, b := range o {
				sum += uint64(b)
				wsum += uint64(i+1) * uint64(b)
			}
			for _, p := range g.pixels {
				assert.Equal(t, p.v, int(o[p.y*g.ow+p.x]), "pixel (%d,%d)", p.y, p.x)
			}
			assert.Equal(t, g.sum, sum)
			assert.Equal(t, g.wsum, wsum%(1<<32))
			if g.ih == g.oh && g.iw == g.ow {
				assert.Equal(t, img, o, "same size is the identity")
			}
		})
	}
}

func TestResizeCornersAndConstant(t *testing.T) {
	r := testutil.NewRNG(40)
	img := make([]byte, 28*28)
	for i := range img {
		img[i] = byte(r.IntN(256))
	}
	for _, out := range []int{56, 224} {
		o := resizeBytes(t, img, 28, 28, out, out)
		assert.Equal(t, img[0], o[0])
		assert.Equal(t, img[27], o[out-1])
		assert.Equal(t, img[27*28], o[(out-1)*out])
		assert.Equal(t, img[28*28-1], o[out*out-1])
	}
	for _, c := range []byte{0, 1, 77, 128, 254, 255} {
		flat := make([]byte, 28*28)
		for i := range flat {
			flat[i] = c
		}
		for _, sz := range [][2]int{{56, 56}, {224, 224}, {9, 9}, {17, 40}, {3, 100}} {
			o := resizeBytes(t, flat, 28, 28, sz[0], sz[1])
			for i, b := range o {
				require.Equal(t, c, b, "constant %d, size %v, pixel %d", c, sz, i)
			}
		}
	}
}

// Several images in one dispatch, packed with a byte offset that is not a
// multiple of four per image.
func TestResizeBatchPacked(t *testing.T) {
	const n, ih, iw = 3, 5, 7
	r := testutil.NewRNG(41)
	all := make([]byte, n*ih*iw)
	for i := range all {
		all[i] = byte(r.IntN(256))
	}
	p := backend.ResizeBilinear{N: n, InH: ih, InW: iw, OutH: 11, OutW: 4, Packed: 1}
	dst := testutil.NaNSlice(n * 11 * 4)
	require.NoError(t, Run(p, backend.PackBytes(all), dst))
	for i := range n {
		one := resizeBytes(t, all[i*ih*iw:(i+1)*ih*iw], ih, iw, 11, 4)
		for j, b := range one {
			require.Equal(t, float32(b)/255, dst[i*44+j])
		}
	}
}
