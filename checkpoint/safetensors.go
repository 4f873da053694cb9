// Package checkpoint stores named float32 tensors in the safetensors format
// (readable by Python's safetensors and torch) with atomic writes and a
// SHA-256 checksum of the data, plus a sibling state file holding Adam's
// moments and the training position, so a run can resume exactly.
package checkpoint

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Format limits and names.
const (
	// MaxHeader bounds the JSON header length, as the reference
	// implementation does (100 MB).
	MaxHeader = 100 << 20
	// MetaChecksum is the metadata key holding the lower-case hex SHA-256
	// of the data section (all bytes after the header). Files without it
	// (written by other tools) load unverified.
	MetaChecksum = "sha256"
	metadataKey  = "__metadata__"
	dtypeF32     = "F32"
)

// knownDtypes are the safetensors dtype names; only F32 can be loaded.
var knownDtypes = map[string]bool{
	"BOOL": true, "U8": true, "I8": true, "F8_E5M2": true, "F8_E4M3": true,
	"I16": true, "U16": true, "F16": true, "BF16": true, "I32": true, "U32": true,
	"F32": true, "F64": true, "I64": true, "U64": true,
}

// Tensor is one named float32 tensor. Data holds the product of Shape
// elements, row-major; Load returns tensors owning their Data.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// numel multiplies shape, reporting negative dimensions and overflow past
// limit.
func numel(shape []int, limit int64) (int64, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d != 0 && n > limit/int64(d) {
			return 0, fmt.Errorf("shape %v holds more than %d elements", shape, limit)
		}
		n *= int64(d)
	}
	return n, nil
}

// Save writes tensors (in the given order) and meta to path in safetensors
// format, atomically: the file appears complete or not at all. meta gains
// MetaChecksum; it must not set it itself, nor use an empty key.
func Save(path string, tensors []Tensor, meta map[string]string) error {
	if err := checkTensors(tensors); err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", path, err)
	}
	if _, ok := meta[MetaChecksum]; ok {
		return fmt.Errorf("checkpoint: save %s: metadata key %q is reserved for the checksum", path, MetaChecksum)
	}
	sum := checksum(tensors)
	all := make(map[string]string, len(meta)+1)
	for k, v := range meta {
		if k == "" || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("checkpoint: save %s: metadata %q: keys must be non-empty and keys and values valid UTF-8", path, k)
		}
		all[k] = v
	}
	all[MetaChecksum] = sum
	header, err := buildHeader(tensors, all)
	if err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", path, err)
	}
	err = writeAtomic(path, func(w *bufio.Writer) error {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
		if _, err := w.Write(n[:]); err != nil {
			return err
		}
		if _, err := w.Write(header); err != nil {
			return err
		}
		return eachChunk(tensors, func(b []byte) error {
			_, err := w.Write(b)
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", path, err)
	}
	return nil
}

func checkTensors(tensors []Tensor) error {
	seen := map[string]bool{}
	for _, t := range tensors {
		if t.Name == "" || t.Name == metadataKey || !utf8.ValidString(t.Name) {
			return fmt.Errorf("invalid tensor name %q", t.Name)
		}
		if seen[t.Name] {
			return fmt.Errorf("duplicate tensor name %q", t.Name)
		}
		seen[t.Name] = true
		n, err := numel(t.Shape, math.MaxInt64/4)
		if err != nil {
			return fmt.Errorf("tensor %s: %w", t.Name, err)
		}
		if n != int64(len(t.Data)) {
			return fmt.Errorf("tensor %s: shape %v needs %d elements, data holds %d", t.Name, t.Shape, n, len(t.Data))
		}
	}
	return nil
}

// buildHeader encodes the JSON header (metadata first, then tensors in
// order, offsets contiguous) padded with spaces to a multiple of 8 bytes.
func buildHeader(tensors []Tensor, meta map[string]string) ([]byte, error) {
	var b strings.Builder
	b.WriteString("{")
	mb, err := json.Marshal(meta) // keys sorted
	if err != nil {
		return nil, err
	}
	b.WriteString(`"` + metadataKey + `":`)
	b.Write(mb)
	off := int64(0)
	for _, t := range tensors {
		name, _ := json.Marshal(t.Name)
		shape := make([]string, len(t.Shape))
		for i, d := range t.Shape {
			shape[i] = strconv.Itoa(d)
		}
		end := off + 4*int64(len(t.Data))
		fmt.Fprintf(&b, `,%s:{"dtype":"%s","shape":[%s],"data_offsets":[%d,%d]}`, name, dtypeF32, strings.Join(shape, ","), off, end)
		off = end
	}
	b.WriteString("}")
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	if b.Len() > MaxHeader {
		return nil, fmt.Errorf("header of %d bytes exceeds the %d-byte limit (too many tensors or too much metadata)", b.Len(), MaxHeader)
	}
	return []byte(b.String()), nil
}

// eachChunk passes the tensors' data as little-endian bytes, in order, in
// chunks of at most 256 KiB (the slice is reused between calls).
func eachChunk(tensors []Tensor, fn func([]byte) error) error {
	const words = 64 << 10
	buf := make([]byte, 4*words)
	for _, t := range tensors {
		for lo := 0; lo < len(t.Data); lo += words {
			part := t.Data[lo:min(lo+words, len(t.Data))]
			for i, v := range part {
				binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
			}
			if err := fn(buf[:4*len(part)]); err != nil {
				return err
			}
		}
	}
	return nil
}

func checksum(tensors []Tensor) string {
	h := sha256.New()
	_ = eachChunk(tensors, func(b []byte) error { _, err := h.Write(b); return err })
	return hex.EncodeToString(h.Sum(nil))
}

// Load reads a safetensors file of F32 tensors. Tensors come back ordered
// by data offset (for files from Save: the saved order); meta is the
// __metadata__ map (nil when absent). When meta holds MetaChecksum the data
// is verified against it.
func Load(path string) ([]Tensor, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("checkpoint: %s is not a regular file", path)
	}
	ts, meta, err := Read(bufio.NewReaderSize(f, int(min(st.Size(), 1<<20))), st.Size())
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return ts, meta, nil
}

// entry is one tensor's header record.
type entry struct {
	name    string
	Dtype   string  `json:"dtype"`
	Shape   []int   `json:"shape"`
	Offsets []int64 `json:"data_offsets"`
}

// Read parses safetensors data of exactly size bytes from r (see Load).
// Every length and offset is checked against size before anything is
// allocated, so hostile input costs at most size bytes of memory.
func Read(r io.Reader, size int64) ([]Tensor, map[string]string, error) {
	if size < 8 {
		return nil, nil, fmt.Errorf("file of %d bytes is too short for a safetensors header (8-byte length first)", size)
	}
	var nb [8]byte
	if _, err := io.ReadFull(r, nb[:]); err != nil {
		return nil, nil, fmt.Errorf("reading header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(nb[:])
	if n > MaxHeader {
		return nil, nil, fmt.Errorf("header length %d exceeds the %d-byte limit; not a safetensors file or corrupt", n, MaxHeader)
	}
	if int64(n) > size-8 {
		return nil, nil, fmt.Errorf("header length %d exceeds the %d bytes after the length field; the file is truncated or corrupt", n, size-8)
	}
	header := make([]byte, n)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, nil, fmt.Errorf("reading %d-byte header: %w", n, err)
	}
	dataLen := size - 8 - int64(n)
	entries, meta, err := parseHeader(header)
	if err != nil {
		return nil, nil, err
	}
	if err := checkLayout(entries, dataLen); err != nil {
		return nil, nil, err
	}

	h := sha256.New()
	tr := io.TeeReader(r, h)
	buf := make([]byte, 256<<10)
	out := make([]Tensor, len(entries))
	for i, e := range entries {
		cnt := (e.Offsets[1] - e.Offsets[0]) / 4
		data := make([]float32, cnt)
		for lo := int64(0); lo < cnt; {
			k := min(cnt-lo, int64(len(buf)/4))
			if _, err := io.ReadFull(tr, buf[:4*k]); err != nil {
				return nil, nil, fmt.Errorf("reading tensor %s: %w (file truncated?)", e.name, err)
			}
			for j := int64(0); j < k; j++ {
				data[lo+j] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:]))
			}
			lo += k
		}
		out[i] = Tensor{Name: e.name, Shape: e.Shape, Data: data}
	}
	if want, ok := meta[MetaChecksum]; ok {
		if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(want) {
			return nil, nil, fmt.Errorf("checksum mismatch: data hashes to sha256 %s, header records %s; the file is corrupt, use an earlier checkpoint", got, want)
		}
	}
	return out, meta, nil
}

// parseHeader decodes the JSON header, rejecting duplicate keys, non-string
// metadata and anything but F32 tensors with consistent sizes. Entries come
// back sorted by begin offset.
func parseHeader(header []byte) ([]entry, map[string]string, error) {
	dec := json.NewDecoder(strings.NewReader(string(header)))
	dec.UseNumber()
	bad := func(err error) error {
		return fmt.Errorf("header is not valid JSON: %w", err)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, bad(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, fmt.Errorf("header is not a JSON object")
	}
	var entries []entry
	var meta map[string]string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, bad(err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return nil, nil, fmt.Errorf("header: duplicate key %q", key)
		}
		seen[key] = true
		if key == metadataKey {
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, fmt.Errorf("header: %s must map strings to strings: %w", metadataKey, err)
			}
			continue
		}
		var e entry
		if err := dec.Decode(&e); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, nil, bad(err)
			}
			return nil, nil, fmt.Errorf("header: tensor %q: %w", key, err)
		}
		e.name = key
		if err := checkEntry(e); err != nil {
			return nil, nil, fmt.Errorf("header: tensor %q: %w", key, err)
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // closing brace
		return nil, nil, bad(err)
	}
	if rest := strings.TrimRight(string(header[dec.InputOffset():]), " "); rest != "" {
		return nil, nil, fmt.Errorf("header has trailing data after the JSON object")
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Offsets[0] < entries[j].Offsets[0] })
	return entries, meta, nil
}

func checkEntry(e entry) error {
	if !knownDtypes[e.Dtype] {
		return fmt.Errorf("unknown dtype %q", e.Dtype)
	}
	if e.Dtype != dtypeF32 {
		return fmt.Errorf("dtype %s is not supported; only F32 tensors can be loaded (convert with tensor.float() before saving)", e.Dtype)
	}
	if e.Shape == nil {
		return fmt.Errorf("missing shape")
	}
	if len(e.Offsets) != 2 {
		return fmt.Errorf("data_offsets must be [begin, end], got %v", e.Offsets)
	}
	b, en := e.Offsets[0], e.Offsets[1]
	if b < 0 || en < b {
		return fmt.Errorf("data_offsets [%d, %d] are not an increasing pair of non-negative numbers", b, en)
	}
	n, err := numel(e.Shape, math.MaxInt64/4)
	if err != nil {
		return err
	}
	if 4*n != en-b {
		return fmt.Errorf("shape %v of F32 needs %d bytes, data_offsets [%d, %d] span %d", e.Shape, 4*n, b, en, en-b)
	}
	return nil
}

// checkLayout requires the sorted entries to tile [0, dataLen) exactly: no
// out-of-range offsets, overlaps, gaps or trailing bytes.
func checkLayout(entries []entry, dataLen int64) error {
	pos := int64(0)
	for _, e := range entries {
		b, en := e.Offsets[0], e.Offsets[1]
		switch {
		case en > dataLen:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] out of range: the data section holds %d bytes (truncated file?)", e.name, b, en, dataLen)
		case b < pos:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap the previous tensor, which ends at %d", e.name, b, en, pos)
		case b > pos:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] leave a gap after byte %d", e.name, b, en, pos)
		}
		pos = en
	}
	if pos != dataLen {
		return fmt.Errorf("data section holds %d bytes but the tensors cover %d; the file is corrupt", dataLen, pos)
	}
	return nil
}

// Find returns the tensor named name, or nil.
func Find(tensors []Tensor, name string) *Tensor {
	for i := range tensors {
		if tensors[i].Name == name {
			return &tensors[i]
		}
	}
	return nil
}
