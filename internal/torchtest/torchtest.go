// Package torchtest checks that PyTorch loads a crossgrad checkpoint of a
// model with load_state_dict(strict=True) and computes the same logits as
// the reference backend. Model packages' tests use it with the PyTorch
// definition of their model.
package torchtest

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/model"
)

// Python is /usr/bin/python3, the interpreter Debian's python3-torch is
// installed for (the python3 first on PATH may lack torch).
const Python = "/usr/bin/python3"

// loadAndRunPy follows a model script that defines net from the arguments
// after the fourth: it loads the checkpoint with load_state_dict(strict=True)
// and prints the logits of the resized input as a JSON list.
const loadAndRunPy = `
model_path, input_path, n, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
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

// RequireTorch skips t in -short mode (a full-size forward pass on the
// reference backend) and when Python has no torch, except under CI=true,
// where a missing torch fails t.
func RequireTorch(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("full-size model forward on the reference backend")
	}
	if err := exec.Command(Python, "-c", "import torch").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3-torch is missing (make setup installs it): %v", err)
		}
		t.Skipf("no %s with torch: %v", Python, err)
	}
}

// Logits runs two random 28x28 images through m on the reference backend
// (after prepare, when not nil, changes the initial parameters in place),
// saves the parameters as a checkpoint, runs modelPy (a script that
// imports json, struct, sys, torch and defines net; it gets the checkpoint,
// input file, image count, input side and then args) and requires
// |ours-torch| <= 1e-6 + 1e-4*|torch| for every logit and logits large
// enough to tell models apart. It returns the torch logits, image-major.
func Logits(t *testing.T, m *model.Model, modelPy string, prepare func([]graph.HostTensor), args ...string) []float64 {
	t.Helper()
	const n = 2
	size := m.Opts.InputSize
	dev := ref.New()
	defer dev.Close()
	plan, err := graph.New(dev, m.Sequential, m.InputShape(n), graph.Config{Seed: 11})
	require.NoError(t, err)
	defer plan.Close()

	r := rand.New(rand.NewPCG(3, 4))
	images := make([]byte, n*plan.Layout().Config().Input.ImageBytes())
	for i := range images {
		images[i] = byte(r.IntN(256))
	}
	require.NoError(t, plan.Upload(images, []int{3, 7}))
	params, err := plan.ReadParams()
	require.NoError(t, err)
	if prepare != nil {
		prepare(params)
		require.NoError(t, plan.LoadParams(params))
	}
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
	script := filepath.Join(dir, "model.py")
	require.NoError(t, os.WriteFile(script, []byte(modelPy+loadAndRunPy), 0o644))

	argv := append([]string{script, modelPath, inputPath, strconv.Itoa(n), strconv.Itoa(size)}, args...)
	out, err := exec.Command(Python, argv...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	var torchLogits []float64
	require.NoError(t, json.Unmarshal(out, &torchLogits), "%s", out)
	require.Len(t, torchLogits, len(logits))
	// float32 forward passes with different summation orders.
	var biggest float64
	for i, want := range torchLogits {
		got := float64(logits[i])
		biggest = max(biggest, math.Abs(want))
		require.LessOrEqual(t, math.Abs(got-want), 1e-6+1e-4*math.Abs(want), "logit %d: crossgrad %v, torch %v", i, got, want)
	}
	require.Greater(t, biggest, 1e-3, "logits too small to tell models apart")
	return torchLogits
}
