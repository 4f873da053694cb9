package data

import "fmt"

// LoadImages reads an image IDX file (magic 0x803, gzip-compressed or not)
// without labels: the returned Set has N images of Rows x Cols and nil
// Labels.
func LoadImages(path string) (*Set, error) {
	dims, images, err := readIDX(path, MagicImages)
	if err != nil {
		return nil, fmt.Errorf("data: images: %w", err)
	}
	return &Set{Images: images, N: dims[0], Rows: dims[1], Cols: dims[2]}, nil
}
