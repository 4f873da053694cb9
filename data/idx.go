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

// readIDX reads an IDX file (gzip-compressed or not, detected from its first
// two bytes) whose magic must equal magic. It returns the dimensions and the
// payload (the product of the dimensions in bytes, freshly allocated and owned
// by the caller).
func readIDX(path string, magic uint32) (dims []int, payload []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	dims, payload, err = decodeFile(f, magic)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return dims, payload, nil
}

// decodeFile is the stream layer of readIDX: it gunzips r when it starts
// with the gzip magic bytes 1f 8b and decodes the IDX data (decodeIDX). The
// memory it allocates is bounded by the header's checked dimensions and by
// the bytes actually present, whatever the compression ratio.
func decodeFile(r io.Reader, magic uint32) ([]int, []byte, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var in io.Reader = br
	head, err := br.Peek(2)
	if err == nil && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("corrupt gzip stream (%v); reinstall the file (for Fashion-MNIST: apt-get install --reinstall dataset-fashion-mnist)", err)
		}
		defer zr.Close()
		in = zr
	}
	return decodeIDX(in, magic)
}

// decodeIDX parses an IDX stream: 4-byte big-endian magic, one 4-byte
// big-endian size per dimension, then the uint8 payload, and nothing after it.
func decodeIDX(r io.Reader, magic uint32) ([]int, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, truncated("header", err)
	}
	got := binary.BigEndian.Uint32(hdr[:])
	if got != magic {
		return nil, nil, fmt.Errorf("bad IDX magic 0x%08x, want 0x%08x (%s); is this the right file?", got, magic, describeMagic(magic))
	}
	nd := int(magic & 0xff)
	dims := make([]int, nd)
	total := 1
	for i := range dims {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, nil, truncated("header", err)
		}
		d := binary.BigEndian.Uint32(hdr[:])
		limit := uint32(MaxDim)
		if i == 0 {
			limit = MaxImages
		}
		if d == 0 || d > limit {
			return nil, nil, fmt.Errorf("IDX dimension %d is %d, want 1..%d; the header is corrupt", i, d, limit)
		}
		dims[i] = int(d)
		total *= int(d) // bounded: 1e7 * 4096 * 4096 fits int64
	}
	if total > MaxBytes {
		return nil, nil, fmt.Errorf("IDX payload of dimensions %v would be %d bytes, over the %d-byte limit; the header is corrupt", dims, total, MaxBytes)
	}
	// Grow with the data actually present rather than trusting the header:
	// a short file with a large header costs only what it holds.
	payload, err := readPayload(r, total)
	if err != nil {
		return nil, nil, truncated(fmt.Sprintf("payload has %d of the %d bytes dimensions %v need", len(payload), total, dims), err)
	}
	var extra [1]byte
	if n, err := io.ReadFull(r, extra[:]); n > 0 {
		return nil, nil, fmt.Errorf("trailing bytes after the %d-byte payload for dimensions %v; the file is corrupt or not an IDX file", total, dims)
	} else if err != io.EOF {
		return nil, nil, truncated("end of file", err)
	}
	return dims, payload, nil
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
