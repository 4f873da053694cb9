package alexnet_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/alexnet"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/graph"
)

// seedModelPy is the seed tutorial's PyTorch AlexNet, verbatim in structure,
// loading a crossgrad checkpoint with load_state_dict(strict=True) and
// printing its logits for the input crossgrad resized.
const seedModelPy = `
import json, struct, sys
import torch
from torch import nn

class AlexNet(nn.Module):
    def __init__(self):
        super(AlexNet, self).__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels=1, out_channels=96, kernel_size=11, stride=4, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(in_channels=96, out_channels=256, kernel_size=5, stride=1, padding=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(in_channels=256, out_channels=384, kernel_size=3, stride=1, padding=1), nn.ReLU(),
            nn.Conv2d(in_channels=384, out_channels=384, kernel_size=3, stride=1, padding=1), nn.ReLU(),
            nn.Conv2d(in_channels=384, out_channels=256, kernel_size=3, stride=1, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2))
        self.fc = nn.Sequential(
            nn.Linear(256 * 5 * 5, 4096), nn.ReLU(), nn.Dropout(p=0.5),
            nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=0.5),
            nn.Linear(4096, 10))

    def forward(self, img):
        feature = self.conv(img)
        return self.fc(feature.view(img.shape[0], -1))

model_path, input_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
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
net = AlexNet()
net.load_state_dict(state, strict=True)
net.eval()
x = torch.frombuffer(bytearray(open(input_path, "rb").read()), dtype=torch.float32).reshape(n, 1, 224, 224)
with torch.no_grad():
    print(json.dumps(net(x).reshape(-1).tolist()))
`

// TestTorchLoadsCheckpoint saves the seed-size model's initial weights as a
// crossgrad checkpoint, loads it into the seed's PyTorch model with
// load_state_dict(strict=True) and checks PyTorch's logits equal the
// reference backend's for the same resized images: names, shapes, layout
// and the forward pass all agree with PyTorch. Needs /usr/bin/python3 with
// torch (Debian python3-torch, installed by make setup); skipped without it
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
	const n = 2
	m, err := alexnet.New(alexnet.DefaultOptions())
	require.NoError(t, err)
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
	_, err = plan.EvalStep(n)
	require.NoError(t, err)
	logits, err := plan.ReadLogits(n)
	require.NoError(t, err)
	resized, err := plan.ReadTensors([]graph.NamedTensor{plan.Resized()})
	require.NoError(t, err)
	params, err := plan.ReadParams()
	require.NoError(t, err)

	dir := t.TempDir()
	tensors := make([]checkpoint.Tensor, len(params))
	for i, p := range params {
		tensors[i] = checkpoint.Tensor(p)
	}
	modelPath := filepath.Join(dir, "model.safetensors")
	require.NoError(t, checkpoint.Save(modelPath, tensors, nil))
	in := make([]byte, 4*n*224*224)
	for i, v := range resized[0].Data[:n*224*224] {
		binary.LittleEndian.PutUint32(in[4*i:], math.Float32bits(v))
	}
	inputPath := filepath.Join(dir, "input.f32")
	require.NoError(t, os.WriteFile(inputPath, in, 0o644))
	script := filepath.Join(dir, "seed_model.py")
	require.NoError(t, os.WriteFile(script, []byte(seedModelPy), 0o644))

	out, err := exec.Command("/usr/bin/python3", script, modelPath, inputPath, "2").CombinedOutput()
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
}
