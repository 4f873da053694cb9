package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openPTY opens a pseudo-terminal: the master (the test reads what the
// child writes) and the slave (the child's terminal).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	var n uint32
	unlock := int32(0)
	for _, c := range []struct {
		req uintptr
		arg unsafe.Pointer
	}{{syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)}, {syscall.TIOCGPTN, unsafe.Pointer(&n)}} {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), c.req, uintptr(c.arg)); e != 0 {
			m.Close()
			t.Skipf("no pseudo-terminal: ioctl: %v", e)
		}
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m, s
}

// runOnTerminalStderr runs crossgrad with args, stdout into a pipe and
// stderr on a pseudo-terminal, and returns both outputs.
func runOnTerminalStderr(t *testing.T, args ...string) (stdout, terminal string) {
	t.Helper()
	master, slave := openPTY(t)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), beMain+"=1")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = slave
	require.NoError(t, cmd.Start())
	slave.Close()
	read := make(chan string)
	go func() {
		b, _ := io.ReadAll(master) // ends with EIO once the child has exited
		read <- string(b)
	}()
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	select {
	case err := <-errc:
		term := <-read
		require.NoError(t, err, term)
		return out.String(), term
	case <-time.After(120 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("crossgrad did not exit")
	}
	return "", ""
}

func TestProgressBarOnTerminalStderrWhileStdoutPipedCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	out, term := runOnTerminalStderr(t, procArgs(t, dir)...)
	assert.Contains(t, term, "epoch 1/1 loss", "the training bar shows on stderr")
	assert.Contains(t, term, "steps")
	assert.Contains(t, term, "test 64 images acc", "the test pass after the epoch shows a bar")
	ls := outLines(out)
	require.Len(t, ls, 3, out)
	assert.Equal(t, "training on pure-Go reference (ref:0)", ls[0])
	assert.Regexp(t, reEpochLine, ls[1])
	assert.NotContains(t, out, "loss -", "stdout gets the seed's lines only")

	data, err := procData()
	require.NoError(t, err)
	_, term = runOnTerminalStderr(t, "eval", "--backend", "ref", "--checkpoint", dir, "--data-dir", data)
	assert.Contains(t, term, "test 64 images acc", "eval shows a bar")
	assert.Contains(t, term, "batches")
}
