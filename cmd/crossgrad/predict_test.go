package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/data"
)

// predictOut is predict --json's output.
type predictOut struct {
	Checkpoint  string
	Model       string
	Device      string
	Predictions []struct {
		Input    string
		Inverted bool
		Label    *struct {
			Class int
			Name  string
		}
		Top []struct {
			Class       int
			Name        string
			Probability float64
		}
		Probabilities []float64
		Logits        []float64
	}
}

// predictRun trains the tiny model for two steps on procData and returns
// the run folder and the synthetic test images file.
func predictRun(t *testing.T) (string, string) {
	t.Helper()
	dataDir, err := procData()
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "run")
	_, errOut, err := execute(t, context.Background(), "train", "--device", "ref", "--input-size", "65", "--width", "0.0625",
		"--batch-size", "16", "--train-limit", "32", "--test-limit", "16", "--epochs", "1", "--data-dir", dataDir,
		"--checkpoint-dir", dir, "--checkpoint-every-minutes", "0")
	require.NoError(t, err, errOut)
	return dir, filepath.Join(dataDir, "t10k-images-idx3-ubyte.gz")
}

func predictJSON(t *testing.T, args ...string) predictOut {
	t.Helper()
	out, errOut, err := execute(t, context.Background(), append([]string{"predict", "--device", "ref", "--json"}, args...)...)
	require.NoError(t, err, errOut)
	var p predictOut
	require.NoError(t, json.Unmarshal([]byte(out), &p), out)
	return p
}

// TestPredictCLI classifies a test image by --idx and the same image saved
// as PNG: same classes and probabilities, top-k sorted, probabilities
// summing to 1; the text output has one block per image.
func TestPredictCLI(t *testing.T) {
	dir, idx := predictRun(t)
	set, err := data.LoadFiles(idx, strings.Replace(idx, "images-idx3", "labels-idx1", 1))
	require.NoError(t, err)
	pngPath := filepath.Join(t.TempDir(), "img5.png")
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, &image.Gray{Pix: set.Image(5), Stride: 28, Rect: image.Rect(0, 0, 28, 28)}))
	require.NoError(t, os.WriteFile(pngPath, buf.Bytes(), 0o644))

	byIdx := predictJSON(t, "--checkpoint", dir, "--idx", idx, "--index", "5")
	byPNG := predictJSON(t, "--checkpoint", dir, pngPath)
	assert.Contains(t, byIdx.Checkpoint, "ckpt-000000002.safetensors")
	assert.Equal(t, "alexnet input_size 65, width 0.0625", byIdx.Model, "the architecture comes from the checkpoint")
	assert.Equal(t, "pure-Go reference (ref:0)", byIdx.Device)
	require.Len(t, byIdx.Predictions, 1)
	require.Len(t, byPNG.Predictions, 1)
	pi, pp := byIdx.Predictions[0], byPNG.Predictions[0]
	assert.Equal(t, "idx:5", pi.Input)
	assert.Equal(t, pngPath, pp.Input)
	require.NotNil(t, pi.Label, "the labels file beside the images gives the true class")
	assert.Equal(t, int(set.Labels[5]), pi.Label.Class)
	assert.Nil(t, pp.Label)
	assert.False(t, pi.Inverted)
	assert.False(t, pp.Inverted)
	require.Len(t, pi.Top, 3)
	require.Len(t, pi.Probabilities, 10)
	require.Len(t, pi.Logits, 10)
	var sum float64
	for k := range 10 {
		assert.InDelta(t, pi.Probabilities[k], pp.Probabilities[k], 1e-6)
		sum += pi.Probabilities[k]
	}
	assert.InDelta(t, 1, sum, 1e-6)
	assert.Equal(t, pi.Top[0].Class, pp.Top[0].Class)
	for k, c := range pi.Top {
		assert.Equal(t, data.ClassNames[c.Class], c.Name)
		assert.Equal(t, pi.Probabilities[c.Class], c.Probability)
		if k > 0 {
			assert.GreaterOrEqual(t, pi.Top[k-1].Probability, c.Probability)
		}
	}
	for c, p := range pi.Probabilities {
		assert.LessOrEqual(t, p, pi.Top[0].Probability, "class %d above the top class", c)
	}

	// Text: files first, then the --index values in order, top 2 each.
	out, errOut, err := execute(t, context.Background(), "predict", "--device", "ref", "--checkpoint", dir, "--top", "2",
		pngPath, "--idx", idx, "--index", "0-2", "--index", "5")
	require.NoError(t, err, errOut)
	blocks := strings.Split(strings.TrimRight(out, "\n"), "\n\n")
	require.Len(t, blocks, 5, out)
	reLine := regexp.MustCompile(`^  (\S.*?) +(\d+\.\d)%$`)
	for i, b := range blocks {
		ls := strings.Split(b, "\n")
		require.Len(t, ls, 3, b)
		if i == 0 {
			assert.Equal(t, pngPath, ls[0])
		} else {
			n := []int{0, 1, 2, 5}[i-1]
			assert.Equal(t, "idx:"+strconv.Itoa(n)+" (label "+data.ClassNames[set.Labels[n]]+")", ls[0])
		}
		var prev float64 = 101
		for _, l := range ls[1:] {
			m := reLine.FindStringSubmatch(l)
			require.NotNil(t, m, l)
			assert.Contains(t, data.ClassNames, m[1])
			pct, _ := strconv.ParseFloat(m[2], 64)
			assert.LessOrEqual(t, pct, prev)
			prev = pct
		}
	}
	assert.Equal(t, blocks[0][len(pngPath):], blocks[4][len("idx:5 (label "+data.ClassNames[set.Labels[5]]+")"):],
		"the PNG and its IDX image print the same classes and percentages")
	assert.Contains(t, errOut, "predicted checkpoint=")
}

func TestPredictErrorsCLI(t *testing.T) {
	dir, idx := predictRun(t)
	tmp := t.TempDir()
	notImage := filepath.Join(tmp, "notes.png")
	require.NoError(t, os.WriteFile(notImage, []byte("not an image"), 0o644))
	good := filepath.Join(tmp, "good.png")
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 28, 28))))
	require.NoError(t, os.WriteFile(good, buf.Bytes(), 0o644))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{good}, "--checkpoint is required"},
		{[]string{"--checkpoint", filepath.Join(tmp, "nothing"), good}, "nothing: no such file or directory (give --checkpoint a ckpt-*.safetensors file or a run folder written by crossgrad train)"},
		{[]string{"--checkpoint", tmp, good}, "no ckpt-*.safetensors with a state file in " + tmp},
		{[]string{"--checkpoint", dir, filepath.Join(tmp, "missing.png")}, "image " + filepath.Join(tmp, "missing.png") + " does not exist; give the path of a PNG or JPEG file"},
		{[]string{"--checkpoint", dir, notImage}, notImage + " is not a PNG or JPEG image"},
		{[]string{"--checkpoint", dir, "--idx", idx, "--index", "64"}, "image index 64 is out of range: " + idx + " holds 64 images; give an --index from 0 to 63"},
		{[]string{"--checkpoint", dir, "--idx", idx, "--index", "3-1"}, `--index "3-1": want an image number N >= 0, or a range A-B`},
		{[]string{"--checkpoint", dir, "--index", "1"}, "--idx and --index go together"},
		{[]string{"--checkpoint", dir}, "nothing to classify; give PNG or JPEG files, or --idx FILE --index N"},
		{[]string{"--checkpoint", dir, "--top", "11", good}, "--top 11 must be from 1 to 10"},
		{[]string{"--checkpoint", dir, "--invert", "maybe", good}, `--invert "maybe": want auto, on or off`},
		{[]string{"--checkpoint", dir, "--width", "0.125", good}, "tensor conv.0.weight has shape [6 1 11 11]"},
	} {
		_, _, err := execute(t, context.Background(), append([]string{"predict", "--device", "ref"}, c.args...)...)
		require.Error(t, err, c.args)
		assert.Contains(t, err.Error(), c.want, c.args)
	}

	help, _, err := execute(t, context.Background(), "predict", "--help")
	require.NoError(t, err)
	for _, f := range []string{"--checkpoint", "--idx", "--index", "--top", "--invert", "--json", "--device", "--input-size", "--width"} {
		assert.Contains(t, help, f)
	}
	for _, f := range []string{"--lr", "--epochs", "--resume", "--dropout"} {
		assert.NotContains(t, help, f, "predict shows only its flags")
	}

	// The binary exits 1 with the message, no panic.
	ch := start(t, nil, "predict", "--device", "ref", "--checkpoint", dir, notImage)
	require.Equal(t, 1, ch.wait(t))
	assert.Equal(t, "crossgrad: train: predict: "+notImage+" is not a PNG or JPEG image; predict reads PNG and JPEG files, or IDX image files with --idx\n", ch.errText())
}
