package checkpoint

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pyReader parses a safetensors file with the Python standard library only
// (as safetensors' reader does: length, JSON header, raw little-endian F32)
// and prints name, shape and the sum of each tensor, then checks the
// recorded SHA-256. When torch is installed it also loads the data into
// torch tensors.
const pyReader = `
import hashlib, json, struct, sys
raw = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
assert n % 8 == 0, "header not padded"
hdr = json.loads(raw[8:8+n])
data = raw[8+n:]
meta = hdr.pop("__metadata__", {})
assert hashlib.sha256(data).hexdigest() == meta["sha256"], "checksum"
for name, e in sorted(hdr.items(), key=lambda kv: kv[1]["data_offsets"][0]):
    b, en = e["data_offsets"]
    vals = struct.unpack("<%df" % ((en - b) // 4), data[b:en])
    print(name, e["dtype"], e["shape"], repr(sum(vals)))
try:
    import torch
except ImportError:
    sys.exit(0)
for name, e in hdr.items():
    b, en = e["data_offsets"]
    t = torch.frombuffer(bytearray(data[b:en]), dtype=torch.float32).reshape(e["shape"])
print("torch ok")
`

func TestPythonReads(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	ts := params(7)
	p := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, Save(p, ts, map[string]string{"k": "v"}))
	out, err := exec.Command(py, "-c", pyReader, p).CombinedOutput()
	require.NoError(t, err, string(out))
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.GreaterOrEqual(t, len(lines), len(ts))
	for i, tn := range ts {
		f := strings.Fields(lines[i])
		assert.Equal(t, tn.Name, f[0])
		assert.Equal(t, "F32", f[1])
		var sum float64
		for _, v := range tn.Data {
			sum += float64(v)
		}
		var got float64
		_, err := fmt.Sscan(f[len(f)-1], &got)
		require.NoError(t, err)
		assert.InDelta(t, sum, got, 1e-9+1e-12*abs(sum))
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
