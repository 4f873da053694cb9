// Package data reads Fashion-MNIST (or MNIST) IDX files into memory and
// serves shuffled mini-batches of packed uint8 images and float32 labels,
// prefetched in a goroutine while the device runs the current step.
package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultDir is where Debian's dataset-fashion-mnist package installs the
// four gzip-compressed IDX files.
const DefaultDir = "/usr/share/datasets/fashion-mnist"

// NumClasses is the number of label classes; every label must be below it.
const NumClasses = 10

// ImageSide is the height and width of the images Load accepts: Fashion-MNIST's
// (and MNIST's) 28x28, the size the model's input layer resizes from.
const ImageSide = 28

// ClassNames are the Fashion-MNIST class names, indexed by label.
var ClassNames = [NumClasses]string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// Set is an in-memory image set. Images holds N images of Rows x Cols uint8
// pixels, row-major, image i at Images[i*Rows*Cols:]; Labels holds N class
// indices below NumClasses. A Set is immutable once loaded and may be shared
// by goroutines for reading.
type Set struct {
	Images     []byte
	Labels     []uint8
	N          int
	Rows, Cols int
}

// ImageSize is the number of pixels of one image, Rows*Cols.
func (s *Set) ImageSize() int { return s.Rows * s.Cols }

// Image returns image i (a view of Images, not a copy).
func (s *Set) Image(i int) []byte {
	sz := s.ImageSize()
	return s.Images[i*sz : (i+1)*sz]
}

// Head returns a Set of the first n images sharing s's memory; n <= 0 or
// n >= s.N returns s itself.
func (s *Set) Head(n int) *Set {
	if n <= 0 || n >= s.N {
		return s
	}
	sz := s.ImageSize()
	return &Set{Images: s.Images[: n*sz : n*sz], Labels: s.Labels[:n:n], N: n, Rows: s.Rows, Cols: s.Cols}
}

// fileNames lists, per kind, the names tried in order: the gzip files as
// distributed (and by Debian), then uncompressed ones, then the dotted
// variant some mirrors use.
func fileNames(train bool, kind string) []string {
	prefix := "t10k"
	if train {
		prefix = "train"
	}
	idx := "idx3"
	if kind == "labels" {
		idx = "idx1"
	}
	base := prefix + "-" + kind + "-" + idx + "-ubyte"
	dotted := prefix + "-" + kind + "." + idx + "-ubyte"
	return []string{base + ".gz", base, dotted + ".gz", dotted}
}

// findFile returns the first existing candidate in dir.
func findFile(dir string, names []string) (string, error) {
	for _, n := range names {
		p := filepath.Join(dir, n)
		st, err := os.Stat(p)
		if err == nil && st.Mode().IsRegular() {
			return p, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("data: %s: %w", p, err)
		}
	}
	return "", fmt.Errorf("data: none of %v found in %s; install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or set data_dir (CROSSGRAD_DATA_DIR, --data-dir) to a folder holding the Fashion-MNIST or MNIST IDX files", names, dir)
}

// Load reads the training (train = true, 60000 images for Fashion-MNIST) or
// test (10000 images) split from dir, which holds the IDX files named as
// distributed (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
// t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz), gzip-compressed or
// not. dir "" means DefaultDir. The returned Set is owned by the caller.
func Load(dir string, train bool) (*Set, error) {
	if dir == "" {
		dir = DefaultDir
	}
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("data: directory %s does not exist; install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or set data_dir (CROSSGRAD_DATA_DIR, --data-dir) to a folder holding the Fashion-MNIST or MNIST IDX files", dir)
		}
		return nil, fmt.Errorf("data: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("data: %s is not a directory; set data_dir (CROSSGRAD_DATA_DIR, --data-dir) to the folder holding the IDX files", dir)
	}
	imgPath, err := findFile(dir, fileNames(train, "images"))
	if err != nil {
		return nil, err
	}
	lblPath, err := findFile(dir, fileNames(train, "labels"))
	if err != nil {
		return nil, err
	}
	return LoadFiles(imgPath, lblPath)
}

// LoadFiles reads an image IDX file (magic 0x803) and a label IDX file (magic
// 0x801). It reads both headers first and refuses images that are not
// ImageSide x ImageSide and counts that differ before reading any payload,
// so memory stays bounded by the size the headers declare; then it reads the
// labels, checks every one is below NumClasses, and reads the images.
func LoadFiles(imagesPath, labelsPath string) (*Set, error) {
	img, err := openIDX(imagesPath, MagicImages)
	if err != nil {
		return nil, fmt.Errorf("data: images: %w", err)
	}
	defer img.close()
	lbl, err := openIDX(labelsPath, MagicLabels)
	if err != nil {
		return nil, fmt.Errorf("data: labels: %w", err)
	}
	defer lbl.close()
	n, rows, cols := img.dims()[0], img.dims()[1], img.dims()[2]
	if rows != ImageSide || cols != ImageSide {
		return nil, fmt.Errorf("data: %s holds %d images of %dx%d; crossgrad needs Fashion-MNIST's %dx%d images: resize the set to %dx%d, or set data_dir (CROSSGRAD_DATA_DIR, --data-dir) to a folder holding the Fashion-MNIST or MNIST IDX files",
			imagesPath, n, rows, cols, ImageSide, ImageSide, ImageSide, ImageSide)
	}
	if nl := lbl.dims()[0]; n != nl {
		return nil, fmt.Errorf("data: %s holds %d images but %s holds %d labels; the two files are from different sets, reinstall them", imagesPath, n, labelsPath, nl)
	}
	labels, err := lbl.payload()
	if err != nil {
		return nil, fmt.Errorf("data: labels: %w", err)
	}
	for i, l := range labels {
		if l >= NumClasses {
			return nil, fmt.Errorf("data: %s: label %d of item %d is not below %d classes; the file is corrupt or not a 10-class set", labelsPath, l, i, NumClasses)
		}
	}
	images, err := img.payload()
	if err != nil {
		return nil, fmt.Errorf("data: images: %w", err)
	}
	return &Set{Images: images, Labels: labels, N: n, Rows: rows, Cols: cols}, nil
}
