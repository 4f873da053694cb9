package train

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFile is the lock file of a run folder: it holds the PID of the
// process writing the folder while that process holds an exclusive flock
// on it.
const LockFile = ".crossgrad.lock"

// runLock is the lock of a run folder held by this process.
type runLock struct {
	f       *os.File
	path    string
	created []string // folders made to hold the lock, innermost first
}

// lockRunDir creates dir when missing and takes its lock: an exclusive
// flock on dir/LockFile, into which the PID is written. The kernel drops a
// flock when its process ends in any way (kill -9 included), so a lock file
// left behind never blocks a later run. A folder whose lock another process
// holds is refused, naming that process.
func lockRunDir(dir string) (*runLock, error) {
	created, err := mkdirAllTracked(dir)
	if err != nil {
		return nil, fmt.Errorf("train: checkpoint_dir %s: %w", dir, err)
	}
	l := &runLock{path: filepath.Join(dir, LockFile), created: created}
	// The holder before us removes the file as it releases the lock: retry
	// until the file locked is the one the path names.
	for range 100 {
		f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			l.removeCreated()
			return nil, fmt.Errorf("train: cannot lock the run folder %s: %w", dir, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			pid := readPID(f)
			_ = f.Close()
			l.removeCreated()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("train: the run folder %s is in use by process %s (another crossgrad train writes it); "+
					"wait for it to end or stop it, or choose another folder with --checkpoint-dir", dir, pid)
			}
			return nil, fmt.Errorf("train: cannot lock the run folder %s (%s): %w", dir, l.path, err)
		}
		if sameFile(f, l.path) {
			l.f = f
			if err := writePID(f); err != nil {
				l.release()
				return nil, fmt.Errorf("train: cannot lock the run folder %s: writing %s: %w", dir, l.path, err)
			}
			return l, nil
		}
		_ = f.Close()
	}
	l.removeCreated()
	return nil, fmt.Errorf("train: cannot lock the run folder %s: %s keeps being replaced by other processes", dir, l.path)
}

// release removes the lock file and drops the lock, then removes the
// folders lockRunDir made if they are still empty (the run stopped before
// writing anything).
func (l *runLock) release() {
	if l == nil || l.f == nil {
		return
	}
	_ = os.Remove(l.path) // while still locked: see lockRunDir
	_ = l.f.Close()
	l.f = nil
	l.removeCreated()
}

// removeCreated removes the folders made for the lock that are empty.
func (l *runLock) removeCreated() {
	for _, d := range l.created {
		if os.Remove(d) != nil {
			return
		}
	}
}

// mkdirAllTracked is os.MkdirAll returning the folders it made, innermost
// first.
func mkdirAllTracked(dir string) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	return missing, os.MkdirAll(dir, 0o755)
}

// sameFile reports whether f is the file path names now.
func sameFile(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// writePID replaces the content of f with this process's PID.
func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// readPID returns the PID written in a lock file, or "(PID not yet
// written)".
func readPID(f *os.File) string {
	b, err := io.ReadAll(io.LimitReader(f, 32))
	s := strings.TrimSpace(string(b))
	if _, perr := strconv.Atoi(s); err != nil || perr != nil {
		return "(PID not yet written)"
	}
	return s
}
