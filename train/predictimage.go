package train

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // registers JPEG with image.Decode
	_ "image/png"  // registers PNG with image.Decode
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/crossgrad/crossgrad/data"
)

// PredictSize is the side of the images prediction feeds the model: the
// data set's stored side (data.ImageSide, Fashion-MNIST's 28), resized on
// the device to the model's input size as in training.
const PredictSize = data.ImageSide

// MaxImageSide bounds the width and height of an image file to classify.
const MaxImageSide = 8192

// Invert says whether an image's gray levels are inverted before
// classifying (Fashion-MNIST shows a light object on black).
type Invert string

// Invert modes: auto inverts an image whose border is light on average (a
// photo on a white background), on and off always and never invert.
const (
	InvertAuto Invert = "auto"
	InvertOn   Invert = "on"
	InvertOff  Invert = "off"
)

// ParseInvert parses an Invert mode: auto, on (true, yes) or off (false,
// no).
func ParseInvert(s string) (Invert, error) {
	switch strings.ToLower(s) {
	case "auto":
		return InvertAuto, nil
	case "on", "true", "yes":
		return InvertOn, nil
	case "off", "false", "no":
		return InvertOff, nil
	}
	return "", fmt.Errorf("invert %q: want auto, on or off", s)
}

// PredictInput is one image prepared for the model.
type PredictInput struct {
	Name     string // the image file, or "idx:N"
	Pixels   []byte // PredictSize x PredictSize gray levels, row-major
	Inverted bool   // gray levels were inverted
	Label    int    // true class (from the labels file beside an IDX file), -1 when unknown
}

// ReadImageFile decodes a PNG or JPEG file, converts it to 8-bit gray,
// inverts it as inv says, pads it to a square with black and resizes it to
// PredictSize x PredictSize (area average when shrinking, bilinear when
// enlarging).
func ReadImageFile(path string, inv Invert) (PredictInput, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return PredictInput{}, fmt.Errorf("train: predict: image %s does not exist; give the path of a PNG or JPEG file", path)
	}
	if err != nil {
		return PredictInput{}, fmt.Errorf("train: predict: image %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return PredictInput{}, fmt.Errorf("train: predict: image %s is a folder; give the path of a PNG or JPEG file", path)
	}
	cfg, format, err := image.DecodeConfig(f)
	if errors.Is(err, image.ErrFormat) {
		return PredictInput{}, fmt.Errorf("train: predict: %s is not a PNG or JPEG image; predict reads PNG and JPEG files, or IDX image files with --idx", path)
	}
	if err != nil {
		return PredictInput{}, fmt.Errorf("train: predict: %s: corrupt image: %w", path, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxImageSide || cfg.Height > MaxImageSide {
		return PredictInput{}, fmt.Errorf("train: predict: %s is %dx%d; sides of 1 to %d pixels are read, scale it down first", path, cfg.Width, cfg.Height, MaxImageSide)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return PredictInput{}, fmt.Errorf("train: predict: %s: %w", path, err)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return PredictInput{}, fmt.Errorf("train: predict: %s: corrupt %s image: %w", path, format, err)
	}
	b := img.Bounds()
	gray := toGray(img)
	px, inverted := prepare(gray, b.Dx(), b.Dy(), inv)
	return PredictInput{Name: path, Pixels: px, Inverted: inverted, Label: -1}, nil
}

// ReadIDXImages reads the images at indices of an IDX image file and
// prepares them as ReadImageFile does (images of PredictSize x PredictSize,
// as Fashion-MNIST's, pass unchanged unless inverted). A labels file beside
// it (t10k-labels-idx1-ubyte.gz for t10k-images-idx3-ubyte.gz) gives their
// true classes.
func ReadIDXImages(path string, indices []int, inv Invert) ([]PredictInput, error) {
	set, err := loadIDXImages(path)
	if err != nil {
		return nil, err
	}
	out := make([]PredictInput, 0, len(indices))
	for _, i := range indices {
		if i < 0 || i >= set.N {
			return nil, fmt.Errorf("train: predict: image index %d is out of range: %s holds %d images; give an --index from 0 to %d", i, path, set.N, set.N-1)
		}
		px, inverted := prepare(set.Image(i), set.Cols, set.Rows, inv)
		in := PredictInput{Name: fmt.Sprintf("idx:%d", i), Pixels: px, Inverted: inverted, Label: -1}
		if set.Labels != nil {
			in.Label = int(set.Labels[i])
		}
		out = append(out, in)
	}
	return out, nil
}

// loadIDXImages loads an IDX image file with the labels file beside it when
// there is one that matches.
func loadIDXImages(path string) (*data.Set, error) {
	if st, err := os.Stat(path); err != nil || st.IsDir() {
		what := "does not exist"
		if err == nil {
			what = "is a folder"
		} else if !errors.Is(err, fs.ErrNotExist) {
			what = err.Error()
		}
		return nil, fmt.Errorf("train: predict: IDX file %s %s; give --idx an IDX image file such as %s", path, what, filepath.Join(data.DefaultDir, "t10k-images-idx3-ubyte.gz"))
	}
	base := filepath.Base(path)
	for _, pair := range [][2]string{{"-images-idx3-", "-labels-idx1-"}, {"-images.idx3-", "-labels.idx1-"}} {
		if lb := strings.Replace(base, pair[0], pair[1], 1); lb != base {
			lp := filepath.Join(filepath.Dir(path), lb)
			if _, err := os.Stat(lp); err == nil {
				if set, err := data.LoadFiles(path, lp); err == nil {
					return set, nil
				}
			}
		}
	}
	set, err := data.LoadImages(path)
	if err != nil {
		return nil, fmt.Errorf("train: predict: %w", err)
	}
	return set, nil
}

// toGray converts img to 8-bit gray levels (ITU-R 601 luma), row-major;
// transparent pixels become black.
func toGray(img image.Image) []byte {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]byte, w*h)
	if g, ok := img.(*image.Gray); ok {
		for y := range h {
			copy(out[y*w:(y+1)*w], g.Pix[y*g.Stride:y*g.Stride+w])
		}
		return out
	}
	for y := range h {
		for x := range w {
			out[y*w+x] = color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y
		}
	}
	return out
}

// prepare inverts a w x h gray image as inv says, pads it to a centred
// square with black and resizes it to PredictSize x PredictSize. It
// reports whether it inverted.
func prepare(gray []byte, w, h int, inv Invert) ([]byte, bool) {
	invert := inv == InvertOn || (inv == InvertAuto && borderMean(gray, w, h) > 127)
	s := max(w, h)
	sq := make([]byte, s*s)
	ox, oy := (s-w)/2, (s-h)/2
	for y := range h {
		row := sq[(oy+y)*s+ox : (oy+y)*s+ox+w]
		copy(row, gray[y*w:(y+1)*w])
		if invert {
			for x := range row {
				row[x] = 255 - row[x]
			}
		}
	}
	if s == PredictSize {
		return sq, invert
	}
	return resize(sq, s, PredictSize), invert
}

// borderMean is the mean gray level of the outermost pixels of a w x h
// image.
func borderMean(gray []byte, w, h int) float64 {
	var sum, n float64
	for y := range h {
		for x := range w {
			if y == 0 || y == h-1 || x == 0 || x == w-1 {
				sum += float64(gray[y*w+x])
				n++
			}
		}
	}
	return sum / n
}

// resize scales an s x s image to out x out, rows then columns.
func resize(src []byte, s, out int) []byte {
	rows := make([]float64, s*out) // s rows of out samples
	line := make([]float64, s)
	for y := range s {
		for x := range s {
			line[x] = float64(src[y*s+x])
		}
		resample(line, rows[y*out:(y+1)*out])
	}
	res := make([]byte, out*out)
	col, dst := make([]float64, s), make([]float64, out)
	for x := range out {
		for y := range s {
			col[y] = rows[y*out+x]
		}
		resample(col, dst)
		for y, v := range dst {
			res[y*out+x] = byte(math.Round(min(255, max(0, v))))
		}
	}
	return res
}

// resample fills dst from src, a line of samples: the mean over each
// output pixel's footprint when shrinking, linear interpolation between
// pixel centres otherwise.
func resample(src, dst []float64) {
	n, m := len(src), len(dst)
	scale := float64(n) / float64(m)
	for j := range dst {
		if m < n {
			lo, hi := float64(j)*scale, float64(j+1)*scale
			var sum float64
			for i := int(lo); i < n && float64(i) < hi; i++ {
				sum += src[i] * (min(hi, float64(i+1)) - max(lo, float64(i)))
			}
			dst[j] = sum / scale
			continue
		}
		x := min(max((float64(j)+0.5)*scale-0.5, 0), float64(n-1))
		i := min(int(x), n-2)
		if n == 1 {
			dst[j] = src[0]
			continue
		}
		f := x - float64(i)
		dst[j] = src[i]*(1-f) + src[i+1]*f
	}
}
