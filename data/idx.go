package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// IDX magic numbers: two zero bytes, the element type (0x08 = uint8) and the
// number of dimensions.
const (
	MagicImages = 0x00000803 // uint8, 3 dimensions: N x Rows x Cols
	MagicLabels = 0x00000801 // uint8, 1 dimension: N
)

// Bounds checked before anything is allocated, so a corrupt or hostile header
// cannot make the reader allocate gigabytes.
const (
	MaxImages = 10_000_000 // most items an IDX file may hold
	MaxDim    = 4096       // largest image height or width
	MaxBytes  = 1 << 31    // largest payload (N*Rows*Cols) in bytes
)

// idxFile is an open IDX file whose header has been read; its payload is
// read by payload.
type idxFile struct {
	path string
	f    *os.File
	s    *idxStream
}

// openIDX opens the IDX file at path (gzip-compressed or not, detected from
// its first two bytes), whose magic must equal magic, and reads its header
// only. Errors name the file.
func openIDX(path string, magic uint32) (*idxFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s, err := openStream(f, magic)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &idxFile{path: path, f: f, s: s}, nil
}

// dims returns the dimensions the header declares.
func (x *idxFile) dims() []int { return x.s.dims }

// payload reads the payload the header declares and checks that nothing
// follows it.
func (x *idxFile) payload() ([]byte, error) {
	b, err := x.s.payload()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", x.path, err)
	}
	return b, nil
}

func (x *idxFile) close() { x.f.Close() }

// readIDX reads a whole IDX file (see openIDX): its dimensions and its
// payload, freshly allocated and owned by the caller.
func readIDX(path string, magic uint32) (dims []int, payload []byte, err error) {
	x, err := openIDX(path, magic)
	if err != nil {
		return nil, nil, err
	}
	defer x.close()
	if payload, err = x.payload(); err != nil {
		return nil, nil, err
	}
	return x.dims(), payload, nil
}

// idxStream is an IDX stream positioned after its header.
type idxStream struct {
	r     io.Reader
	dims  []int
	total int // payload bytes: the product of dims, at most MaxBytes
}

// decodeFile decodes a whole IDX stream (see openStream and payload).
func decodeFile(r io.Reader, magic uint32) ([]int, []byte, error) {
	s, err := openStream(r, magic)
	if err != nil {
		return nil, nil, err
	}
	payload, err := s.payload()
	if err != nil {
		return nil, nil, err
	}
	return s.dims, payload, nil
}

// openStream gunzips r when it starts with the gzip magic bytes 1f 8b and
// reads the IDX header: 4-byte big-endian magic, then one 4-byte big-endian
// size per dimension, each checked against MaxImages or MaxDim and their
// product against MaxBytes.
func openStream(r io.Reader, magic uint32) (*idxStream, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var in io.Reader = br
	head, err := br.Peek(2)
	if err == nil && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("corrupt gzip stream (%v); reinstall the file (for Fashion-MNIST: apt-get install --reinstall dataset-fashion-mnist)", err)
		}
		in = zr
	}
	var hdr [4]byte
	if _, err := io.ReadFull(in, hdr[:]); err != nil {
		return nil, truncated("header", err)
	}
	got := binary.BigEndian.Uint32(hdr[:])
	if got != magic {
		return nil, fmt.Errorf("bad IDX magic 0x%08x, want 0x%08x (%s); is this the right file?", got, magic, describeMagic(magic))
	}
	s := &idxStream{r: in, dims: make([]int, magic&0xff), total: 1}
	for i := range s.dims {
		if _, err := io.ReadFull(in, hdr[:]); err != nil {
			return nil, truncated("header", err)
		}
		d := binary.BigEndian.Uint32(hdr[:])
		limit := uint32(MaxDim)
		if i == 0 {
			limit = MaxImages
		}
		if d == 0 || d > limit {
			return nil, fmt.Errorf("IDX dimension %d is %d, want 1..%d; the header is corrupt", i, d, limit)
		}
		s.dims[i] = int(d)
		s.total *= int(d) // bounded: 1e7 * 4096 * 4096 fits int64
	}
	if s.total > MaxBytes {
		return nil, fmt.Errorf("IDX payload of dimensions %v would be %d bytes, over the %d-byte limit; the header is corrupt", s.dims, s.total, MaxBytes)
	}
	return s, nil
}

// payload reads exactly the total bytes the header declares and then one
// byte more to reject trailing data, so that an over-long (or highly
// compressed) stream costs no more than the declared size. The memory it
// allocates is bounded by the declared size and by the bytes actually
// present, whatever the compression ratio.
func (s *idxStream) payload() ([]byte, error) {
	payload, err := readPayload(s.r, s.total)
	if err != nil {
		return nil, truncated(fmt.Sprintf("payload has %d of the %d bytes dimensions %v need", len(payload), s.total, s.dims), err)
	}
	var extra [1]byte
	if n, err := io.ReadFull(s.r, extra[:]); n > 0 {
		return nil, fmt.Errorf("trailing bytes after the %d-byte payload for dimensions %v; the file is corrupt or not an IDX file", s.total, s.dims)
	} else if err != io.EOF {
		return nil, truncated("end of file", err)
	}
	return payload, nil
}

// readPayload reads exactly total bytes from r into a slice that starts at
// 1 MiB at most and doubles as data arrives, never beyond total. On error it
// returns what was read.
func readPayload(r io.Reader, total int) ([]byte, error) {
	buf := make([]byte, 0, min(total, 1<<20))
	for len(buf) < total {
		if len(buf) == cap(buf) {
			buf = append(make([]byte, 0, min(total, 2*cap(buf))), buf...)
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF && len(buf) < total {
			return buf, io.ErrUnexpectedEOF
		}
		if err != nil && err != io.EOF {
			return buf, err
		}
	}
	return buf, nil
}

func truncated(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("truncated file (%s): the download or install was cut short; reinstall it (for Fashion-MNIST: apt-get install --reinstall dataset-fashion-mnist)", what)
	}
	return fmt.Errorf("reading %s: %w (the gzip stream may be corrupt; reinstall the file, for Fashion-MNIST: apt-get install --reinstall dataset-fashion-mnist)", what, err)
}

func describeMagic(m uint32) string {
	switch m {
	case MagicImages:
		return "uint8 images, 3 dimensions"
	case MagicLabels:
		return "uint8 labels, 1 dimension"
	}
	return "unknown"
}
