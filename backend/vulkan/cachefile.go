package vulkan

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	vk "github.com/vulkan-go/vulkan"
)

// maxCacheBytes bounds the pipeline cache file read at open: a larger file
// is ignored (and replaced at Close) rather than read into memory.
const maxCacheBytes = 256 << 20

// cacheMagic starts every pipeline cache file; a SHA-256 of the Vulkan cache
// data follows, then the data.
const cacheMagic = "CGVKPC01"

// cachePath is the pipeline cache file of the device described by props in
// dir ("" = os.UserCacheDir()/crossgrad, "-" = no persistence), or "".
func cachePath(dir string, props *vk.PhysicalDeviceProperties) string {
	if dir == "-" {
		return ""
	}
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(base, "crossgrad")
	}
	return filepath.Join(dir, fmt.Sprintf("vulkan-%04x-%04x-%x.pipelines", props.VendorID, props.DeviceID, props.PipelineCacheUUID[:]))
}

// loadCache returns the Vulkan pipeline cache data stored in file, or nil.
// A missing file is silent; a corrupt one or one from another device or
// driver is ignored with a warning on slog's default logger (which the
// command sets to its own, so the line has the format of every other).
func loadCache(file string, props *vk.PhysicalDeviceProperties) []byte {
	if file == "" {
		return nil
	}
	if st, err := os.Stat(file); err == nil && st.Size() > maxCacheBytes {
		slog.Warn("vulkan: ignoring pipeline cache", "file", file, "reason", fmt.Sprintf("%d bytes, over the %d-byte limit", st.Size(), maxCacheBytes))
		return nil
	}
	raw, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		var data []byte
		data, err = checkCache(raw, props)
		if err == nil {
			return data
		}
	}
	slog.Warn("vulkan: ignoring pipeline cache", "file", file, "reason", err.Error())
	return nil
}

// checkCache validates the file framing and the Vulkan cache header
// (version one, this vendor, device and pipelineCacheUUID).
func checkCache(raw []byte, props *vk.PhysicalDeviceProperties) ([]byte, error) {
	if len(raw) < len(cacheMagic)+sha256.Size || string(raw[:len(cacheMagic)]) != cacheMagic {
		return nil, errors.New("not a crossgrad pipeline cache")
	}
	sum := raw[len(cacheMagic) : len(cacheMagic)+sha256.Size]
	data := raw[len(cacheMagic)+sha256.Size:]
	if got := sha256.Sum256(data); !bytes.Equal(got[:], sum) {
		return nil, errors.New("checksum mismatch (corrupt file)")
	}
	if len(data) < 32 {
		return nil, fmt.Errorf("Vulkan cache header too short (%d bytes)", len(data))
	}
	le := binary.LittleEndian
	hlen, ver := le.Uint32(data[0:]), le.Uint32(data[4:])
	vendor, device := le.Uint32(data[8:]), le.Uint32(data[12:])
	if hlen < 32 || int(hlen) > len(data) || ver != 1 {
		return nil, fmt.Errorf("bad Vulkan cache header (length %d, version %d)", hlen, ver)
	}
	if vendor != props.VendorID || device != props.DeviceID || !bytes.Equal(data[16:32], props.PipelineCacheUUID[:]) {
		return nil, errors.New("made by another device or driver version")
	}
	return data, nil
}

// storeCache writes data to file atomically (temporary file, then rename).
// Failures are logged as warnings on slog's default logger.
func storeCache(file string, data []byte) {
	if err := writeAtomic(file, data); err != nil {
		slog.Warn("vulkan: cannot save pipeline cache", "file", file, "reason", err.Error())
	}
}

func writeAtomic(file string, data []byte) error {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".vulkan-pipelines-*.tmp")
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	var buf bytes.Buffer
	buf.WriteString(cacheMagic)
	buf.Write(sum[:])
	buf.Write(data)
	_, werr := tmp.Write(buf.Bytes())
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
