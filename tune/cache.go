package tune

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/crossgrad/crossgrad/backend"
)

// fileFormat names the layout of a cache file; a file of another format is
// ignored like a corrupt one.
const fileFormat = "crossgrad-tune-1"

// cacheFile is the JSON content of one cache file.
type cacheFile struct {
	Format   string               `json:"format"`
	Identity backend.TuneIdentity `json:"identity"`
	Entries  []Entry              `json:"entries"`
}

// fileName is the cache file name of identity id: the backend's name and a
// hash of the whole identity, e.g. "opencl-3f2a9c0d41be7a55.json".
func fileName(id backend.TuneIdentity) string {
	raw, _ := json.Marshal(id) // strings only: cannot fail
	sum := sha256.Sum256(raw)
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, id.Backend)
	if name == "" {
		name = "device"
	}
	return name + "-" + hex.EncodeToString(sum[:8]) + ".json"
}

// logger is c.Log, or a discarding logger.
func (c *Cache) logger() *slog.Logger { return orDiscard(c.Log) }

// inMemory logs, once per Cache, that its directory cannot be used and
// results stay in memory.
func (c *Cache) inMemory(log *slog.Logger, err error) {
	if c.unusable.CompareAndSwap(false, true) {
		log.Warn("tune: the cache directory cannot be used; tuned configurations are kept in memory only",
			"dir", c.Dir, "reason", err.Error())
	}
}

// readFile returns the entries of the file at path (their params compact)
// if it is a cache file of identity id: a missing file has none; a corrupt or foreign one gives
// the reason it is ignored; err is an I/O failure other than absence.
func readFile(path string, id backend.TuneIdentity) (entries []Entry, ignored, err error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var f cacheFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("corrupt file: %w", err), nil
	}
	if f.Format != fileFormat {
		return nil, fmt.Errorf("format %q, want %q", f.Format, fileFormat), nil
	}
	if f.Identity != id {
		return nil, fmt.Errorf("written for another device, driver or kernel sources (%s)", identityDiff(f.Identity, id)), nil
	}
	for i, e := range f.Entries {
		var c bytes.Buffer
		if json.Compact(&c, e.Params) == nil {
			f.Entries[i].Params = c.Bytes()
		}
	}
	return f.Entries, nil, nil
}

// identityDiff names the fields in which identity a (the file's) differs
// from b (the device's).
func identityDiff(a, b backend.TuneIdentity) string {
	var d []string
	add := func(name, x, y string) {
		if x != y {
			d = append(d, fmt.Sprintf("%s %q, this device %q", name, x, y))
		}
	}
	add("backend", a.Backend, b.Backend)
	add("vendor", a.Vendor, b.Vendor)
	add("device", a.Device, b.Device)
	add("driver", a.Driver, b.Driver)
	add("sources", a.Sources, b.Sources)
	add("limits", a.Limits, b.Limits)
	return strings.Join(d, "; ")
}

// load is Cache.Load.
func (c *Cache) load(dev backend.Tuner) (map[backend.TuneKey]Entry, error) {
	id := dev.TuneIdentity()
	path := c.Path(id)
	log := c.logger()
	entries, ignored, err := readFile(path, id)
	if err != nil {
		return nil, fmt.Errorf("tune cache: reading %s: %w", path, err)
	}
	out := map[backend.TuneKey]Entry{}
	if ignored != nil {
		log.Warn("tune: ignoring cache file; its configurations are tuned again", "file", path, "reason", ignored.Error())
		return out, nil
	}
	for _, e := range entries {
		p, err := e.Dispatch()
		if err == nil && !e.isAlgo() {
			err = dev.CheckTile(p, e.Config)
		}
		if err != nil {
			log.Warn("tune: ignoring cache entry; it is tuned again", "file", path,
				"kernel", string(e.Kernel), "shape", e.Shape, "config", string(e.Config), "reason", err.Error())
			continue
		}
		if old, ok := out[e.key()]; !ok || !e.Tuned.Before(old.Tuned) {
			out[e.key()] = e
		}
	}
	return out, nil
}

// store is Cache.Store: under the lock, the file's valid entries merged
// with entries, written to a temporary file that replaces it.
func (c *Cache) store(id backend.TuneIdentity, entries []Entry) error {
	for _, e := range entries {
		if _, err := e.Dispatch(); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("tune cache: %w", err)
	}
	path := c.Path(id)
	unlock, err := lock(path + ".lock")
	if err != nil {
		return fmt.Errorf("tune cache: %w", err)
	}
	defer unlock()
	old, ignored, err := readFile(path, id)
	if err != nil {
		return fmt.Errorf("tune cache: reading %s: %w", path, err)
	}
	if ignored != nil {
		c.logger().Warn("tune: replacing cache file", "file", path, "reason", ignored.Error())
	}
	f := cacheFile{Format: fileFormat, Identity: id, Entries: merge(old, entries)}
	raw, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("tune cache: encoding %s: %w", path, err)
	}
	if err := writeAtomic(path, append(raw, '\n')); err != nil {
		return fmt.Errorf("tune cache: writing %s: %w", path, err)
	}
	return nil
}

// merge is the decodable entries of old with those of add, one per key,
// the newer (Tuned) of two with the same key kept, sorted by kernel and
// shape.
func merge(old, add []Entry) []Entry {
	byKey := map[backend.TuneKey]Entry{}
	for _, e := range slices.Concat(old, add) {
		if _, err := e.Dispatch(); err != nil {
			continue
		}
		if prev, ok := byKey[e.key()]; !ok || !e.Tuned.Before(prev.Tuned) {
			byKey[e.key()] = e
		}
	}
	out := make([]Entry, 0, len(byKey))
	for _, e := range byKey {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.Kernel, b.Kernel), cmp.Compare(a.Shape, b.Shape))
	})
	return out
}
