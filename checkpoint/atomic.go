package checkpoint

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// testHookBeforeRename, when set by a test, runs after the temporary file is
// written and synced, before the rename; an error aborts the save.
var testHookBeforeRename func(tmp string) error

// writeAtomic writes path through fill: a temporary file in the same folder
// is written, fsynced and renamed over path, then the folder is fsynced. On
// any error the temporary file is removed and path is left as it was.
func writeAtomic(path string, fill func(w *bufio.Writer) error) (err error) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close() // may already be closed; the error is moot
			_ = os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	if err = fill(w); err != nil {
		return err
	}
	if err = w.Flush(); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return err
	}
	if testHookBeforeRename != nil {
		if err = testHookBeforeRename(tmp); err != nil {
			return err
		}
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	// The file is complete and in place; a failed folder sync only weakens
	// durability across a power cut, so it is reported but nothing is removed.
	if d, derr := os.Open(dir); derr == nil {
		serr := d.Sync()
		_ = d.Close()
		if serr != nil {
			return fmt.Errorf("fsync folder %s after writing %s: %w", dir, base, serr)
		}
	}
	return nil
}

// RemoveStaleTemps deletes the temporary files that atomic writes into dir
// leave behind when the process is killed mid-write (".<name>.tmp-<n>",
// here and in package train) and returns their paths. Only call it when no
// other process writes into dir.
func RemoveStaleTemps(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var removed []string
	var errs []error
	for _, e := range ents {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, ".") || !tempRE.MatchString(n) {
			continue
		}
		p := filepath.Join(dir, n)
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, p)
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("checkpoint: removing temporary files: %w", err)
	}
	return removed, nil
}

// tempRE matches the names os.CreateTemp makes from "."+base+".tmp-*".
var tempRE = regexp.MustCompile(`^\..+\.tmp-[0-9]+$`)

// WriteFile writes data to path atomically as Save does (temporary file in
// the same folder, fsync, rename, folder fsync), creating the folder if
// needed; on error path is left as it was and no temporary file remains.
func WriteFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writeAtomic(path, func(w *bufio.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
