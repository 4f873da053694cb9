package vgg_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/model"
	"github.com/crossgrad/crossgrad/vgg"
)

// d2lVGGPy is d2l.ai's VGG-11 (vgg_block, vgg, conv_arch and ratio = 4 as
// in the chapter), with the first Linear's in-features following the input
// side and a width multiplier (1: the chapter's model). It loads a
// crossgrad checkpoint with load_state_dict(strict=True) and prints the
// logits for the input crossgrad resized.
const d2lVGGPy = `
import json, struct, sys
import torch
from torch import nn

def vgg_block(num_convs, in_channels, out_channels):
    layers = []
    for _ in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)

def vgg(conv_arch, side, hidden):
    conv_blks = []
    in_channels = 1
    for (num_convs, out_channels) in conv_arch:
        conv_blks.append(vgg_block(num_convs, in_channels, out_channels))
        in_channels = out_channels
    return nn.Sequential(
        *conv_blks, nn.Flatten(),
        nn.Linear(out_channels * side * side, hidden), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(hidden, 10))

model_path, input_path, n, size, width = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
conv_arch = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
ratio = 4
small_conv_arch = [(pair[0], max(1, round(pair[1] // ratio * width))) for pair in conv_arch]
net = vgg(small_conv_arch, size // 32, max(1, round(4096 * width)))

raw = open(model_path, "rb").read()
hlen = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + hlen])
data = raw[8 + hlen:]
state = {}
for name, e in header.items():
    if name == "__metadata__":
        continue
    b, en = e["data_offsets"]
    state[name] = torch.frombuffer(bytearray(data[b:en]), dtype=torch.float32).reshape(e["shape"])
net.load_state_dict(state, strict=True)
net.eval()
x = torch.frombuffer(bytearray(open(input_path, "rb").read()), dtype=torch.float32).reshape(n, 1, size, size)
with torch.no_grad():
    print(json.dumps(net(x).reshape(-1).tolist()))
`

// TestTorchLoadsCheckpoint saves VGG-11's initial weights as a crossgrad
// checkpoint, loads it into d2l.ai's PyTorch model with
// load_state_dict(strict=True) and checks PyTorch's logits equal the
// reference backend's for the same resized images: at the chapter's
// 224x224, width 1, and at 64x64, width 0.5 (the first Linear takes
// 64*2*2 features). Needs /usr/bin/python3 with torch; skipped without it
// unless CI=true.
func TestTorchLoadsCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("full-size model forward on the reference backend")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3-torch is missing (make setup installs it): %v", err)
		}
		t.Skipf("no /usr/bin/python3 with torch: %v", err)
	}
	for _, c := range []struct {
		size  int
		width float64
	}{{224, 1}, {64, 0.5}} {
		t.Run(fmt.Sprintf("%d_w%g", c.size, c.width), func(t *testing.T) {
			o := model.DefaultOptions()
			o.InputSize, o.Width = c.size, c.width
			m, err := vgg.New(o)
			require.NoError(t, err)
			torchMatches(t, m, c.width)
		})
	}
}

func torchMatches(t *testing.T, m *vgg.Model, width float64) {
	const n = 2
	size := m.Opts.InputSize
	dev := ref.New()
	defer dev.Close()
	plan, err := graph.New(dev, m.Sequential, m.InputShape(n), graph.Config{Seed: 11})
	require.NoError(t, err)
	defer plan.Close()

	r := rand.New(rand.NewPCG(3, 4))
	images := make([]byte, n*28*28)
	for i := range images {
		images[i] = byte(r.IntN(256))
	}
	require.NoError(t, plan.Upload(images, []int{3, 7}))
	params, err := plan.ReadParams()
	require.NoError(t, err)
	// PyTorch's default init shrinks the signal of eleven layers without
	// normalisation to almost nothing (the logits are then the last bias
	// for any input); He-scaled weights (x sqrt(6)) keep it, so the logits
	// depend on every layer.
	for _, p := range params {
		if len(p.Shape) > 1 {
			for i := range p.Data {
				p.Data[i] *= float32(math.Sqrt(6))
			}
		}
	}
	require.NoError(t, plan.LoadParams(params))
	_, err = plan.EvalStep(n)
	require.NoError(t, err)
	logits, err := plan.ReadLogits(n)
	require.NoError(t, err)
	resized, err := plan.ReadTensors([]graph.NamedTensor{plan.Resized()})
	require.NoError(t, err)

	dir := t.TempDir()
	tensors := make([]checkpoint.Tensor, len(params))
	for i, p := range params {
		tensors[i] = checkpoint.Tensor(p)
	}
	modelPath := filepath.Join(dir, "model.safetensors")
	require.NoError(t, checkpoint.Save(modelPath, tensors, nil))
	in := make([]byte, 4*n*size*size)
	for i, v := range resized[0].Data[:n*size*size] {
		binary.LittleEndian.PutUint32(in[4*i:], math.Float32bits(v))
	}
	inputPath := filepath.Join(dir, "input.f32")
	require.NoError(t, os.WriteFile(inputPath, in, 0o644))
	script := filepath.Join(dir, "d2l_vgg.py")
	require.NoError(t, os.WriteFile(script, []byte(d2lVGGPy), 0o644))

	out, err := exec.Command("/usr/bin/python3", script, modelPath, inputPath, fmt.Sprint(n), fmt.Sprint(size), fmt.Sprint(width)).CombinedOutput()
	require.NoError(t, err, "%s", out)
	var torchLogits []float64
	require.NoError(t, json.Unmarshal(out, &torchLogits), "%s", out)
	require.Len(t, torchLogits, len(logits))
	// float32 forward passes with different summation orders:
	// |ours-torch| <= 1e-6 + 1e-4*|torch|.
	var biggest float64
	for i, want := range torchLogits {
		got := float64(logits[i])
		biggest = max(biggest, math.Abs(want))
		require.LessOrEqual(t, math.Abs(got-want), 1e-6+1e-4*math.Abs(want), "logit %d: crossgrad %v, torch %v", i, got, want)
	}
	require.Greater(t, biggest, 1e-3, "logits too small to tell models apart")
	classes := len(logits) / n
	var apart float64
	for k := range classes {
		apart = max(apart, math.Abs(torchLogits[k]-torchLogits[classes+k]))
	}
	require.Greater(t, apart, 0.02*biggest, "the two images' logits must differ: the forward pass reaches the output")
}
