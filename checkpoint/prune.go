package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
)

// ReadMetadata returns the __metadata__ map of a safetensors file, reading
// only its header (nil when the file has none).
func ReadMetadata(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var nb [8]byte
	if _, err := io.ReadFull(f, nb[:]); err != nil {
		return nil, fmt.Errorf("checkpoint: %s: reading header length: %w", path, err)
	}
	n := binary.LittleEndian.Uint64(nb[:])
	if n > MaxHeader || int64(n) > st.Size()-8 {
		return nil, fmt.Errorf("checkpoint: %s: header length %d does not fit the %d-byte file; corrupt", path, n, st.Size())
	}
	header := make([]byte, n)
	if _, err := io.ReadFull(f, header); err != nil {
		return nil, fmt.Errorf("checkpoint: %s: reading header: %w", path, err)
	}
	_, meta, err := parseHeader(header)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return meta, nil
}

// IsEpochEnd reports whether the checkpoint at path (a model file) was
// written at the end of an epoch: its state file records the start of an
// epoch after the first (batch 0, epoch > 0). Checkpoints written every N
// steps or minutes, or on an interrupt, stand inside an epoch.
func IsEpochEnd(path string) (bool, error) {
	meta, err := ReadMetadata(StatePath(path))
	if err != nil {
		return false, err
	}
	epoch, err1 := strconv.Atoi(meta[MetaEpoch])
	batch, err2 := strconv.Atoi(meta[MetaBatch])
	if err := errors.Join(err1, err2); err != nil {
		return false, fmt.Errorf("checkpoint: state of %s: bad position epoch=%q batch=%q", path, meta[MetaEpoch], meta[MetaBatch])
	}
	return epoch > 0 && batch == 0, nil
}

// Prune deletes the checkpoints of dir (model and state files) written
// inside an epoch, all but the newest keepInterval of them; checkpoints
// written at the end of an epoch (IsEpochEnd), those whose state cannot be
// read, and protect (normally the checkpoint just written) are always
// kept. keepInterval < 0 keeps everything. It returns the model paths
// deleted.
func Prune(dir string, keepInterval int, protect string) ([]string, error) {
	if keepInterval < 0 {
		return nil, nil
	}
	l, err := List(dir)
	if err != nil {
		return nil, err
	}
	var interval []string
	for _, p := range l {
		if end, err := IsEpochEnd(p); err == nil && !end && p != protect {
			interval = append(interval, p)
		}
	}
	var removed []string
	var errs []error
	for _, p := range interval[:max(len(interval)-keepInterval, 0)] {
		// The model file first: a lone state file is never listed.
		ok := true
		for _, f := range []string{p, StatePath(p)} {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
				ok = false
			}
		}
		if ok {
			removed = append(removed, p)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("checkpoint: prune %s: %w", dir, err)
	}
	return removed, nil
}
