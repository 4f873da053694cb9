package checkpoint

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
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
