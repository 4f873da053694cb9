package checkpoint

import (
	"bytes"
	"encoding/binary"
	"math"
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
	for _, s := range hostileSeeds() {
		f.Add(s)
	}
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

// lenFile is an 8-byte little-endian header length n followed by rest,
// whatever rest holds.
func lenFile(n uint64, rest string) []byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	return append(b[:], rest...)
}

// hostileSeeds are lying lengths, offsets out of range and dtype or shape
// mismatches; each must be rejected before allocating more than the input.
func hostileSeeds() [][]byte {
	ok := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	return [][]byte{
		lenFile(math.MaxUint64, ok),    // "negative" as int64
		lenFile(1<<63, ok),             // most negative int64
		lenFile(MaxHeader+1, ok),       // just over the limit
		lenFile(uint64(len(ok))+1, ok), // one byte past the file
		lenFile(MaxHeader, ok),         // at the limit, file far shorter
		lenFile(0, ""),                 // empty header
		rawFile(ok, f32bytes(1)),       // data shorter than the offsets
		rawFile(ok, f32bytes(1, 2, 3)), // trailing data
		rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, f32bytes(1, 2, 3)), // gap at 0
		rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,9223372036854775807]}}`, f32bytes(1, 2)),
		rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}`, f32bytes(1, 2)),
		rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}`, f32bytes(1, 2)),
		rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551616]}}`, f32bytes(1, 2)),
		rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}`, f32bytes(1, 2)),
		rawFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32bytes(1, 2)),     // shape/size mismatch
		rawFile(`{"a":{"dtype":"F32","shape":[-1,-2],"data_offsets":[0,8]}}`, f32bytes(1, 2)), // negative dims
		rawFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}`, f32bytes(1, 2)),
		rawFile(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, f32bytes(1, 2)),                                                   // dtype mismatch
		rawFile(`{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}`, f32bytes(1, 2)),                                                    // unknown dtype
		rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32bytes(1)), // overlap
		rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32bytes(1, 2)),
		rawFile(`{"__metadata__":{"sha256":"00"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32bytes(1, 2)), // checksum mismatch
		rawFile(`{"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32bytes(1, 2)),
		rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":[1]}}`, f32bytes(1, 2)),
		rawFile(`{"a":[]}`, nil), rawFile(`[]`, nil), rawFile(`{"a":{}} trailing`, nil), rawFile("{\"a\"\x00", nil),
	}
}

// FuzzLoadState feeds arbitrary bytes as a state file: LoadState must return
// an error or a state whose moments pair up, never panic.
func FuzzLoadState(f *testing.F) {
	dir := f.TempDir()
	p := filepath.Join(dir, "seed.state.safetensors")
	ts := sample(2)[:3]
	if err := SaveState(p, State{Step: 7, Epoch: 1, Batch: 2, Config: "{}", M: ts, V: ts, Extra: map[string]string{"x": "y"}}); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	for _, meta := range []string{`{"format":"crossgrad-adam-v1","step":"-1","epoch":"0","batch":"0"}`,
		`{"format":"crossgrad-adam-v1","step":"99999999999999999999","epoch":"0","batch":"0"}`,
		`{"format":"crossgrad-adam-v1","step":"1","epoch":"0","batch":"0","parameters":"a,a"}`,
		`{"format":"crossgrad-adam-v1","step":"1","epoch":"0","batch":"0","parameters":","}`} {
		f.Add(rawFile(`{"__metadata__":`+meta+`}`, nil))
	}
	path := filepath.Join(dir, "fuzz.state.safetensors")
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := LoadState(path)
		if err != nil {
			return
		}
		if len(st.M) != len(st.V) || st.Step < 0 || st.Epoch < 0 || st.Batch < 0 {
			t.Fatalf("inconsistent state: %d/%d moments, position %d/%d/%d", len(st.M), len(st.V), st.Step, st.Epoch, st.Batch)
		}
		for i := range st.M {
			if len(st.M[i].Data) != len(st.V[i].Data) {
				t.Fatalf("moment %s: %d vs %d values", st.M[i].Name, len(st.M[i].Data), len(st.V[i].Data))
			}
		}
	})
}
