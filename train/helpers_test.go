package train

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/data"
	"github.com/stretchr/testify/require"

	_ "github.com/crossgrad/crossgrad/backend/ref"
)

// tinyConfig is the seed architecture at input 65 and width 1/16 on the
// reference backend, batch 32, two epochs, checkpoints and metrics in a
// fresh folder, every checkpoint kept.
func tinyConfig(t *testing.T) config.Config {
	t.Helper()
	c := config.Default()
	c.Backend = []string{"ref"}
	c.InputSize, c.Width, c.BatchSize, c.Epochs = 65, 1.0/16, 32, 2
	c.CheckpointDir = filepath.Join(t.TempDir(), "run")
	c.MetricsJSONL = filepath.Join(c.CheckpointDir, "metrics.jsonl")
	c.MetricsCSV = filepath.Join(c.CheckpointDir, "metrics.csv")
	c.CheckpointEveryMinutes, c.KeepCheckpoints = 0, -1
	c.Source = "test"
	c.Tune = "off"      // never the user's tuning cache: exact-bits tests pin today's dispatches
	c.ConvAlgo = "gemm" // implicit GEMM: the exact bits do not follow the algorithm rule
	require.NoError(t, c.Validate())
	return c
}

// narrowConfig is tinyConfig at width 1/64 (channels 2 to 6, hidden 64:
// the same layers and kernels at a third of the reference backend's
// compute, which the race detector slows about tenfold) for tests whose
// checks do not depend on the model's size.
func narrowConfig(t *testing.T) config.Config {
	t.Helper()
	c := tinyConfig(t)
	c.Width = 1.0 / 64
	require.NoError(t, c.Validate())
	return c
}

// synthSet returns n 28x28 images whose class shows as a bright band at a
// class-dependent row, plus noise, so that a small net learns something.
func synthSet(seed uint64, n int) *data.Set {
	r := rand.New(rand.NewPCG(seed, 7))
	s := &data.Set{N: n, Rows: 28, Cols: 28, Images: make([]byte, n*784), Labels: make([]uint8, n)}
	for i := range n {
		c := r.IntN(data.NumClasses)
		s.Labels[i] = uint8(c)
		img := s.Images[i*784 : (i+1)*784]
		for j := range img {
			img[j] = byte(r.IntN(64))
		}
		for y := 2 + 2*c; y < 4+2*c; y++ {
			for x := 4; x < 24; x++ {
				img[y*28+x] = 255
			}
		}
	}
	return s
}

// files lists the names in dir (sorted), failing on temporary leftovers.
func files(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var out []string
	for _, e := range ents {
		require.NotContains(t, e.Name(), ".tmp-", "temporary file left in %s", dir)
		out = append(out, e.Name())
	}
	return out
}

// lines splits output into lines without the trailing empty one.
func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

// heavyOnRef skips, in -short mode, a test whose time goes into reference
// backend compute: make test runs the race detector with -short on this
// package, where such tests take minutes; they run without -short.
func heavyOnRef(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("reference-backend compute; runs without -short")
	}
}
