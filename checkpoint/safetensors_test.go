package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func randTensor(r *rand.Rand, name string, shape ...int) Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	d := make([]float32, n)
	for i := range d {
		d[i] = float32(r.NormFloat64())
	}
	return Tensor{Name: name, Shape: shape, Data: d}
}

// sameTensors compares bit for bit (NaN payloads included).
func sameTensors(t *testing.T, want, got []Tensor) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		assert.Equal(t, want[i].Name, got[i].Name)
		assert.Equal(t, len(want[i].Shape), len(got[i].Shape), want[i].Name)
		if len(want[i].Shape) > 0 {
			assert.Equal(t, want[i].Shape, got[i].Shape)
		}
		require.Len(t, got[i].Data, len(want[i].Data), want[i].Name)
		for j := range want[i].Data {
			if math.Float32bits(want[i].Data[j]) != math.Float32bits(got[i].Data[j]) {
				t.Fatalf("%s[%d]: got %v want %v", want[i].Name, j, got[i].Data[j], want[i].Data[j])
			}
		}
	}
}

func sample(seed uint64) []Tensor {
	r := rand.New(rand.NewPCG(seed, 1))
	ts := []Tensor{
		randTensor(r, "conv.0.weight", 5, 1, 3, 3),
		randTensor(r, "conv.0.bias", 5),
		randTensor(r, "fc.6.weight", 3, 7),
		randTensor(r, "empty", 0, 3),
		randTensor(r, "scalar"),
		randTensor(r, "ünï \"quoted\"", 2),
	}
	ts[0].Data[0] = float32(math.NaN())
	ts[0].Data[1] = float32(math.Inf(-1))
	ts[0].Data[2] = float32(math.Copysign(0, -1))
	ts[0].Data[3] = math.Float32frombits(0x7fc00123) // NaN payload
	ts[0].Data[4] = math.SmallestNonzeroFloat32
	return ts
}

func TestRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.safetensors")
	ts := sample(1)
	meta := map[string]string{"epoch": "3", "note": "a \"quoted\"\nline"}
	require.NoError(t, Save(p, ts, meta))

	raw, err := os.ReadFile(p)
	require.NoError(t, err)
	n := binary.LittleEndian.Uint64(raw)
	assert.Zero(t, n%8, "header padded to a multiple of 8")
	assert.Equal(t, byte('{'), raw[8])
	data := 0
	for _, x := range ts {
		data += 4 * len(x.Data)
	}
	assert.Equal(t, 8+int(n)+data, len(raw))

	got, gotMeta, err := Load(p)
	require.NoError(t, err)
	sameTensors(t, ts, got)
	assert.Equal(t, "3", gotMeta["epoch"])
	assert.Equal(t, meta["note"], gotMeta["note"])
	assert.Len(t, gotMeta[MetaChecksum], 64)
	assert.NotNil(t, Find(got, "fc.6.weight"))
	assert.Nil(t, Find(got, "nope"))

	// Overwriting an existing file works and replaces it.
	ts2 := sample(2)
	require.NoError(t, Save(p, ts2, nil))
	got, _, err = Load(p)
	require.NoError(t, err)
	sameTensors(t, ts2, got)
	require.NoError(t, Save(p, nil, nil)) // no tensors at all
	got, _, err = Load(p)
	require.NoError(t, err)
	assert.Empty(t, got)
}

// seedShapes is the seed AlexNet's PyTorch state_dict (names and shapes).
var seedShapes = []struct {
	name  string
	shape []int
}{
	{"conv.0.weight", []int{96, 1, 11, 11}}, {"conv.0.bias", []int{96}},
	{"conv.3.weight", []int{256, 96, 5, 5}}, {"conv.3.bias", []int{256}},
	{"conv.6.weight", []int{384, 256, 3, 3}}, {"conv.6.bias", []int{384}},
	{"conv.8.weight", []int{384, 384, 3, 3}}, {"conv.8.bias", []int{384}},
	{"conv.10.weight", []int{256, 384, 3, 3}}, {"conv.10.bias", []int{256}},
	{"fc.0.weight", []int{4096, 6400}}, {"fc.0.bias", []int{4096}},
	{"fc.3.weight", []int{4096, 4096}}, {"fc.3.bias", []int{4096}},
	{"fc.6.weight", []int{10, 4096}}, {"fc.6.bias", []int{10}},
}

func TestSeedLayout(t *testing.T) {
	total := 0
	for _, s := range seedShapes {
		n := 1
		for _, d := range s.shape {
			n *= d
		}
		total += n
	}
	assert.Equal(t, 46_764_746, total, "parameter count of the seed AlexNet")
	if testing.Short() {
		t.Skip("187 MB round trip")
	}
	// The full-size model (187 MB) round-trips with PyTorch's names.
	r := rand.New(rand.NewPCG(3, 3))
	var ts []Tensor
	for _, s := range seedShapes {
		ts = append(ts, randTensor(r, s.name, s.shape...))
	}
	p := filepath.Join(t.TempDir(), "alexnet.safetensors")
	require.NoError(t, Save(p, ts, map[string]string{"model": "alexnet"}))
	got, _, err := Load(p)
	require.NoError(t, err)
	sameTensors(t, ts, got)
}

// rawFile assembles a safetensors file from a header and data.
func rawFile(header string, data []byte) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func f32bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func readBytes(b []byte) ([]Tensor, map[string]string, error) {
	return Read(bytes.NewReader(b), int64(len(b)))
}

func TestForeignOrder(t *testing.T) {
	// As Python writes: tensors not in offset order in the JSON, metadata
	// last, no checksum; Load orders by offset and accepts it unverified.
	h := `{"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},"__metadata__":{"format":"pt"}}`
	ts, meta, err := readBytes(rawFile(h, f32bytes(1, 2, 3, 4)))
	require.NoError(t, err)
	require.Len(t, ts, 2)
	assert.Equal(t, "a", ts[0].Name)
	assert.Equal(t, []int{1, 2}, ts[0].Shape)
	assert.Equal(t, []float32{1, 2}, ts[0].Data)
	assert.Equal(t, []float32{3, 4}, ts[1].Data)
	assert.Equal(t, map[string]string{"format": "pt"}, meta)
}

func TestReadRejects(t *testing.T) {
	ok := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	d8 := f32bytes(1, 2)
	huge := make([]byte, 8)
	binary.LittleEndian.PutUint64(huge, MaxHeader+1)
	neg := make([]byte, 16)
	binary.LittleEndian.PutUint64(neg, ^uint64(0)) // -1 as int64
	long := make([]byte, 16)
	binary.LittleEndian.PutUint64(long, 9) // 9 > 8 bytes left

	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"ok", rawFile(ok, d8), ""},
		{"short", []byte{1, 2, 3}, "too short"},
		{"huge header length", append(huge, make([]byte, 100)...), "exceeds the 104857600-byte limit"},
		{"negative header length", neg, "exceeds the 104857600-byte limit"},
		{"header past end", long, "exceeds the 8 bytes after"},
		{"bad json", rawFile(`{"a":`, d8), "not valid JSON"},
		{"not object", rawFile(`[1,2]   `, d8), "not a JSON object"},
		{"empty header", rawFile(``, d8), "not valid JSON"},
		{"trailing json", rawFile(ok+`{}`, d8), "trailing data"},
		{"duplicate", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, d8), `duplicate key "a"`},
		{"meta not strings", rawFile(`{"__metadata__":{"x":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, d8), "must map strings to strings"},
		{"entry not object", rawFile(`{"a":5}`, d8), `tensor "a"`},
		{"f16", rawFile(`{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}`, d8), "dtype F16 is not supported; only F32"},
		{"unknown dtype", rawFile(`{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}`, d8), `unknown dtype "Q4"`},
		{"missing shape", rawFile(`{"a":{"dtype":"F32","data_offsets":[0,8]}}`, d8), "missing shape"},
		{"shape mismatch", rawFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, d8), "needs 12 bytes"},
		{"negative dim", rawFile(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, d8), "negative dimension"},
		{"overflow shape", rawFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}`, d8), "more than"},
		{"three offsets", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}}`, d8), "data_offsets must be"},
		{"reversed offsets", rawFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, d8), "increasing"},
		{"float offsets", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}}`, d8), `tensor "a"`},
		{"out of range", rawFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, d8), "out of range"},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, d8), "overlap"},
		{"gap", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, d8), "gap"},
		{"trailing data", rawFile(ok, f32bytes(1, 2, 3)), "data section holds 12 bytes but the tensors cover 8"},
		{"bad checksum", rawFile(`{"__metadata__":{"sha256":"00"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, d8), "checksum mismatch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts, _, err := readBytes(c.file)
			if c.want == "" {
				require.NoError(t, err)
				assert.Equal(t, []float32{1, 2}, ts[0].Data)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestChecksumDetectsCorruption(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, Save(p, sample(4), nil))
	raw, err := os.ReadFile(p)
	require.NoError(t, err)
	raw[len(raw)-3] ^= 0x01 // one bit of the last tensor
	require.NoError(t, os.WriteFile(p, raw, 0o644))
	_, _, err = Load(p)
	require.ErrorContains(t, err, "checksum mismatch")
	assert.Contains(t, err.Error(), p)

	// Truncation is caught by the layout check before any data is read.
	require.NoError(t, os.WriteFile(p, raw[:len(raw)-1], 0o644))
	_, _, err = Load(p)
	require.ErrorContains(t, err, "out of range")
}

func TestSaveRejects(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.safetensors")
	bad := [][]Tensor{
		{{Name: "a", Shape: []int{3}, Data: make([]float32, 2)}},
		{{Name: "", Shape: []int{1}, Data: make([]float32, 1)}},
		{{Name: "__metadata__", Shape: []int{1}, Data: make([]float32, 1)}},
		{{Name: "a", Shape: []int{1}, Data: make([]float32, 1)}, {Name: "a", Shape: []int{1}, Data: make([]float32, 1)}},
		{{Name: "a", Shape: []int{-1}, Data: nil}},
		{{Name: "bad\xff", Shape: []int{1}, Data: make([]float32, 1)}},
	}
	for _, ts := range bad {
		assert.Error(t, Save(p, ts, nil))
	}
	assert.ErrorContains(t, Save(p, nil, map[string]string{MetaChecksum: "x"}), "reserved")
	assert.Error(t, Save(p, nil, map[string]string{"": "x"}))
	assertOnly(t, dir)
}

// assertOnly checks dir holds exactly names (no temporary files left).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	assert.ElementsMatch(t, names, got)
}

func TestAtomicWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.safetensors")

	// Missing folder: nothing is created.
	require.Error(t, Save(filepath.Join(dir, "no", "m.safetensors"), sample(1), nil))
	assertOnly(t, dir)

	// Rename onto a non-empty folder fails after the data was written: the
	// temporary file is removed.
	blocker := filepath.Join(dir, "blocker")
	require.NoError(t, os.MkdirAll(filepath.Join(blocker, "x"), 0o755))
	require.Error(t, Save(blocker, sample(1), nil))
	assertOnly(t, dir, "blocker")
	require.NoError(t, os.RemoveAll(blocker))

	// A failure just before the rename leaves the previous file intact.
	require.NoError(t, Save(p, sample(1), nil))
	before, err := os.ReadFile(p)
	require.NoError(t, err)
	var sawTmp string
	testHookBeforeRename = func(tmp string) error {
		sawTmp = tmp
		_, err := os.Stat(tmp)
		require.NoError(t, err, "the temporary file exists before the rename")
		assert.Equal(t, dir, filepath.Dir(tmp))
		return errors.New("injected failure")
	}
	t.Cleanup(func() { testHookBeforeRename = nil })
	require.ErrorContains(t, Save(p, sample(2), nil), "injected failure")
	testHookBeforeRename = nil
	assert.True(t, strings.HasPrefix(filepath.Base(sawTmp), ".m.safetensors.tmp-"), sawTmp)
	after, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	assertOnly(t, dir, "m.safetensors")

	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())

	// Unwritable folder (only effective when not root).
	ro := filepath.Join(dir, "ro")
	require.NoError(t, os.Mkdir(ro, 0o555))
	if os.Geteuid() != 0 {
		require.Error(t, Save(filepath.Join(ro, "m.safetensors"), sample(1), nil))
		assertOnly(t, ro)
	}
}

func TestLoadErrors(t *testing.T) {
	_, _, err := Load(filepath.Join(t.TempDir(), "none.safetensors"))
	require.Error(t, err)
	assert.True(t, errors.Is(err, os.ErrNotExist))
	_, _, err = Load(t.TempDir())
	require.ErrorContains(t, err, "not a regular file")
}
