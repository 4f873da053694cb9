package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/checkpoint"
)

// beMain, set to 1 in a child's environment, makes the test binary run the
// crossgrad command itself (main with the child's arguments) instead of the
// tests: the subprocess tests get the real binary, signals and exit codes
// included, without building it.
const beMain = "CROSSGRAD_TEST_BE_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(beMain) == "1" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	if procDataDir != "" {
		_ = os.RemoveAll(procDataDir)
	}
	os.Exit(code)
}

// child is a crossgrad process started by a test.
type child struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	mu     sync.Mutex
	stderr bytes.Buffer
	saved  chan int // steps of the "checkpoint saved" log lines
	done   chan struct{}
}

var reSaved = regexp.MustCompile(`^info: checkpoint saved .* step=(\d+) `)

// start runs crossgrad with args and env (added to a clean copy of the
// test's environment); stderr is scanned for checkpoint lines.
func start(t *testing.T, env []string, args ...string) *child {
	t.Helper()
	c := &child{saved: make(chan int, 4096), done: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], args...)
	c.cmd.Env = append(append(os.Environ(), beMain+"=1"), env...)
	c.cmd.Stdout = &c.stdout
	pr, pw := io.Pipe()
	c.cmd.Stderr = pw
	require.NoError(t, c.cmd.Start())
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			c.stderr.WriteString(line + "\n")
			c.mu.Unlock()
			if m := reSaved.FindStringSubmatch(line); m != nil {
				n, _ := strconv.Atoi(m[1])
				c.saved <- n
			}
		}
	}()
	go func() {
		_ = c.cmd.Wait()
		pw.Close()
	}()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.done
	})
	return c
}

// waitSaved waits until a checkpoint of at least step is logged.
func (c *child) waitSaved(t *testing.T, step int) int {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case n := <-c.saved:
			if n >= step {
				return n
			}
		case <-c.done:
			t.Fatalf("crossgrad exited before saving step %d:\n%s", step, c.errText())
		case <-timeout:
			t.Fatalf("no checkpoint of step %d within 60 s:\n%s", step, c.errText())
		}
	}
}

// wait waits for the process to end and returns its exit code.
func (c *child) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(120 * time.Second):
		t.Fatalf("crossgrad did not exit:\n%s", c.errText())
	}
	return c.cmd.ProcessState.ExitCode()
}

func (c *child) errText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.String()
}

// writeIDXSet writes n random 28x28 images (with a bright band at a
// label-dependent row) and their labels as the gzip IDX files of a train or
// test split into dir.
func writeIDXSet(dir string, train bool, n int, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 3))
	prefix := "t10k"
	if train {
		prefix = "train"
	}
	write := func(name string, magic uint32, dims []uint32, payload []byte) error {
		var raw bytes.Buffer
		_ = binary.Write(&raw, binary.BigEndian, append([]uint32{magic}, dims...))
		raw.Write(payload)
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		_, _ = w.Write(raw.Bytes())
		if err := w.Close(); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name), gz.Bytes(), 0o644)
	}
	pix := make([]byte, n*784)
	labels := make([]byte, n)
	for i := range labels {
		labels[i] = byte(r.IntN(10))
		for j := range 784 {
			pix[i*784+j] = byte(r.IntN(64))
			if j/28 == 2+2*int(labels[i]) {
				pix[i*784+j] = 255
			}
		}
	}
	if err := write(prefix+"-images-idx3-ubyte.gz", 0x803, []uint32{uint32(n), 28, 28}, pix); err != nil {
		return err
	}
	return write(prefix+"-labels-idx1-ubyte.gz", 0x801, []uint32{uint32(n)}, labels)
}

// procData is a synthetic Fashion-MNIST folder shared by the subprocess
// tests: 512 training and 64 test images, in procDataDir (removed by
// TestMain).
var procData = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "crossgrad-data-")
	if err != nil {
		return "", err
	}
	procDataDir = dir
	if err := writeIDXSet(dir, true, 512, 1); err != nil {
		return "", err
	}
	return dir, writeIDXSet(dir, false, 64, 2)
})

var procDataDir string

// procSteps is the number of steps of procArgs' run: 512 images in batches
// of 8, one epoch.
const procSteps = 64

// procArgs is a one-epoch training run of the tiny AlexNet on the
// reference backend over procData, checkpoints in dir.
func procArgs(t *testing.T, dir string, extra ...string) []string {
	t.Helper()
	data, err := procData()
	require.NoError(t, err)
	return append([]string{"train", "--backend", "ref", "--input-size", "65", "--width", "0.0625", "--batch-size", "8",
		"--epochs", "1", "--data-dir", data, "--checkpoint-dir", dir, "--checkpoint-every-minutes", "0"}, extra...)
}

// uninterrupted is the final checkpoint's parameters of procArgs run
// without interruption, computed once.
var uninterrupted = sync.OnceValues(func() ([]checkpoint.Tensor, error) {
	dir, err := os.MkdirTemp("", "crossgrad-run-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	data, err := procData()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(os.Args[0], "train", "--backend", "ref", "--input-size", "65", "--width", "0.0625", "--batch-size", "8",
		"--epochs", "1", "--data-dir", data, "--checkpoint-dir", dir, "--checkpoint-every-minutes", "0")
	cmd.Env = append(os.Environ(), beMain+"=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%w: %s", err, out)
	}
	ts, _, err := checkpoint.Load(filepath.Join(dir, checkpoint.Name(procSteps)))
	return ts, err
})

// requireSameParams compares the final checkpoint of dir with the
// uninterrupted run, bit for bit.
func requireSameParams(t *testing.T, dir string) {
	t.Helper()
	want, err := uninterrupted()
	require.NoError(t, err)
	got, _, _, err := checkpoint.LoadCheckpoint(filepath.Join(dir, checkpoint.Name(procSteps)))
	require.NoError(t, err)
	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, want[i].Name, got[i].Name)
		for j := range want[i].Data {
			if math.Float32bits(want[i].Data[j]) != math.Float32bits(got[i].Data[j]) {
				t.Fatalf("%s[%d]: %v resumed, %v uninterrupted", want[i].Name, j, got[i].Data[j], want[i].Data[j])
			}
		}
	}
}

// requireStepRecords checks that the run's metrics hold each step once, in
// order.
func requireStepRecords(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	require.NoError(t, err)
	steps := regexp.MustCompile(`"kind":"step","step":(\d+)`).FindAllStringSubmatch(string(b), -1)
	require.Len(t, steps, procSteps)
	for i, m := range steps {
		require.Equal(t, strconv.Itoa(i+1), m[1])
	}
}

// noTemps fails on temporary files left in dir.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range ents {
		assert.NotContains(t, e.Name(), ".tmp-")
	}
}

func TestSignalsFinishStepSaveAndResumeCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	// SIGINT mid-epoch: the step in flight finishes, a checkpoint is saved,
	// the message says how to resume; exit status 1.
	c := start(t, nil, procArgs(t, dir, "--checkpoint-every-steps", "5")...)
	c.waitSaved(t, 5)
	require.NoError(t, c.cmd.Process.Signal(os.Interrupt))
	require.Equal(t, 1, c.wait(t), c.errText())
	errText := c.errText()
	assert.Contains(t, errText, "interrupt: finishing the step in flight and saving a checkpoint")
	m := regexp.MustCompile(`crossgrad: interrupted after step (\d+) \(epoch 1, batch (\d+)\); checkpoint saved as (\S+); resume with: crossgrad train --resume (\S+)\n`).FindStringSubmatch(errText)
	require.NotNil(t, m, errText)
	step, _ := strconv.Atoi(m[1])
	assert.Equal(t, m[1], m[2], "batch = step in the first epoch")
	assert.GreaterOrEqual(t, step, 5)
	require.Less(t, step, procSteps, "interrupted mid-epoch")
	assert.Equal(t, filepath.Join(dir, checkpoint.Name(int64(step))), m[3])
	assert.Equal(t, dir, m[4])
	_, _, st, err := checkpoint.LoadCheckpoint(m[3])
	require.NoError(t, err)
	assert.Equal(t, [3]int{step, 0, step}, [3]int{int(st.Step), st.Epoch, st.Batch})

	// --resume continues; SIGTERM is handled the same way.
	c = start(t, nil, "train", "--backend", "ref", "--resume", dir, "--checkpoint-every-steps", "5")
	c.waitSaved(t, step+5)
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 1, c.wait(t), c.errText())
	assert.Contains(t, c.errText(), "terminated: finishing the step in flight")
	assert.Contains(t, c.errText(), "resume with: crossgrad train --resume "+dir)

	c = start(t, nil, "train", "--backend", "ref", "--resume", dir)
	require.Equal(t, 0, c.wait(t), c.errText())
	assert.Regexp(t, `(?m)^epoch 1 : loss \d+\.\d{3}, train acc [01]\.\d{3}, test acc [01]\.\d{3}$`, c.stdout.String())
	requireSameParams(t, dir)
	requireStepRecords(t, dir)
	noTemps(t, dir)
}

func TestKill9LeavesIntactCheckpointCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	args := procArgs(t, dir, "--checkpoint-every-steps", "1")
	last := 0
	for round := range 3 {
		c := start(t, nil, args...)
		c.waitSaved(t, last+1)
		// At a random moment: mid-step, mid-save or mid-prune.
		time.Sleep(time.Duration(r.IntN(40)) * time.Millisecond)
		require.NoError(t, c.cmd.Process.Signal(syscall.SIGKILL))
		c.wait(t)
		// The newest checkpoint on disk is complete: checksums verified on load.
		l, err := checkpoint.Latest(dir)
		require.NoError(t, err, "round %d", round)
		_, _, st, err := checkpoint.LoadCheckpoint(l)
		require.NoError(t, err, "round %d: %s", round, l)
		require.GreaterOrEqual(t, int(st.Step), last+1)
		last = int(st.Step)
		if last >= procSteps {
			break
		}
		args = []string{"train", "--backend", "ref", "--resume", dir, "--checkpoint-every-steps", "1"}
	}
	c := start(t, nil, "train", "--backend", "ref", "--resume", dir)
	require.Equal(t, 0, c.wait(t), c.errText())
	requireSameParams(t, dir)
	requireStepRecords(t, dir)
	noTemps(t, dir)
}

// TestCorruptLatestCheckpointCLI flips a byte of the newest checkpoint:
// resuming fails naming the checksum mismatch and the way out; resuming the
// previous checkpoint works.
func TestCorruptLatestCheckpointCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	c := start(t, nil, procArgs(t, dir, "--checkpoint-every-steps", "16")...)
	require.Equal(t, 0, c.wait(t), c.errText())
	last := filepath.Join(dir, checkpoint.Name(procSteps))
	b, err := os.ReadFile(last)
	require.NoError(t, err)
	b[len(b)-3] ^= 0x40
	require.NoError(t, os.WriteFile(last, b, 0o644))
	c = start(t, nil, "train", "--backend", "ref", "--resume", dir)
	require.Equal(t, 1, c.wait(t))
	assert.Contains(t, c.errText(), "checksum mismatch")
	assert.Contains(t, c.errText(), "use an earlier checkpoint")
	prev := filepath.Join(dir, checkpoint.Name(48))
	c = start(t, nil, "train", "--backend", "ref", "--resume", prev)
	require.Equal(t, 0, c.wait(t), c.errText())
	requireSameParams(t, dir)
}

// cacheRun trains 2 steps on backend with the caches under cache (Vulkan
// pipeline cache in $XDG_CACHE_HOME/crossgrad, PoCL's in POCL_CACHE_DIR).
func cacheRun(t *testing.T, cache, backend string) *child {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	env := []string{"XDG_CACHE_HOME=" + cache, "POCL_CACHE_DIR=" + filepath.Join(cache, "pocl")}
	return start(t, env, procArgs(t, dir, "--backend", backend, "--train-limit", "16", "--test-limit", "8")...)
}

// needCLIBackend skips when backend has no device, unless CI is "true".
func needCLIBackend(t *testing.T, name string) {
	t.Helper()
	out, _, err := execute(t, t.Context(), "devices")
	if err == nil && strings.Contains(out, name+":0") {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %s is unavailable: %v\n%s", name, err, out)
	}
	t.Skipf("%s unavailable", name)
}

// vulkanCacheFile returns the one pipeline cache file under cache, checking
// its framing (magic, then the SHA-256 of the rest) and that no temporary
// file is left.
func vulkanCacheFile(t *testing.T, cache string) string {
	t.Helper()
	dir := filepath.Join(cache, "crossgrad")
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, ents, 1, "one cache file and no temporary files in %s", dir)
	p := filepath.Join(dir, ents[0].Name())
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Greater(t, len(b), 40)
	require.Equal(t, "CGVKPC01", string(b[:8]))
	sum := sha256.Sum256(b[40:])
	require.Equal(t, sum[:], b[8:40], "checksum of %s", p)
	return p
}

// TestSharedCachesCLI starts two crossgrad processes at once on an empty
// cache folder, per GPU backend: both train, and the caches they leave are
// valid. A corrupt Vulkan pipeline cache is ignored with a log line and
// rewritten.
func TestSharedCachesCLI(t *testing.T) {
	for _, backend := range []string{"vulkan", "opencl"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel() // each compiles its kernels cold on one core
			needCLIBackend(t, backend)
			cache := t.TempDir()
			a, b := cacheRun(t, cache, backend), cacheRun(t, cache, backend)
			require.Equal(t, 0, a.wait(t), a.errText())
			require.Equal(t, 0, b.wait(t), b.errText())
			for _, c := range []*child{a, b} {
				assert.NotContains(t, c.errText(), "ignoring pipeline cache")
				assert.Regexp(t, `(?m)^training on .*\(`+backend+`:0\)$`, c.stdout.String())
			}
			if backend != "vulkan" {
				c := cacheRun(t, cache, backend) // PoCL reads what both wrote
				require.Equal(t, 0, c.wait(t), c.errText())
				return
			}
			p := vulkanCacheFile(t, cache)
			c := cacheRun(t, cache, backend)
			require.Equal(t, 0, c.wait(t), c.errText())
			assert.NotContains(t, c.errText(), "ignoring pipeline cache", "the cache both wrote is valid")

			raw, err := os.ReadFile(p)
			require.NoError(t, err)
			raw[len(raw)/2] ^= 0xff
			require.NoError(t, os.WriteFile(p, raw, 0o644))
			c = cacheRun(t, cache, backend)
			require.Equal(t, 0, c.wait(t), c.errText())
			assert.Contains(t, c.errText(), "warn: vulkan: ignoring pipeline cache file="+p+` reason="checksum mismatch`, "the log's one format")
			assert.Equal(t, p, vulkanCacheFile(t, cache), "rewritten, valid")
		})
	}
}
