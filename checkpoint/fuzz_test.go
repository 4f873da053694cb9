package checkpoint

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Read: it must return an error or
// consistent tensors, never panic or allocate beyond the input size.
func FuzzLoad(f *testing.F) {
	dir := f.TempDir()
	p := filepath.Join(dir, "seed.safetensors")
	if err := Save(p, sample(1), map[string]string{"a": "b"}); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(good[:16])
	f.Add([]byte{})
	f.Add([]byte{8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '})
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32bytes(1, 2)))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[1,1,1,1,1,1],"data_offsets":[0,4]},"__metadata__":null}`, f32bytes(1)))
	f.Add(rawFile(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, f32bytes(1)))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[1073741824],"data_offsets":[0,4294967296]}}`, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, _, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		total := 0
		for _, x := range ts {
			n := 1
			for _, d := range x.Shape {
				n *= d
			}
			if n != len(x.Data) {
				t.Fatalf("tensor %s: shape %v but %d elements", x.Name, x.Shape, len(x.Data))
			}
			total += 4 * n
		}
		if total > len(b) {
			t.Fatalf("%d data bytes from a %d-byte input", total, len(b))
		}
	})
}
