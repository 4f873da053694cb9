package train

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/checkpoint"
)

// recordGolden, set to 1, makes TestGoldenFiveSteps print the figures of
// the devices it runs on instead of checking them.
const recordGolden = "CROSSGRAD_TEST_RECORD_GOLDEN"

// goldenRun is what five training steps of the tiny AlexNet leave: the
// SHA-256 of every parameter's bits (sorted by name) and each step's loss
// bits.
type goldenRun struct {
	params string
	losses []uint32
}

// golden holds the figures recorded before the engine refactor of issue 9,
// keyed by "backend/device name": the refactor must leave them bit-identical.
// lavapipe's were recorded again when maxpool_bwd became a scatter on CPU
// devices: an input that is the maximum of three or four windows sums
// their gradients in another order (step 2's loss moved by one ulp, to
// the reference's and PoCL's value; the gather form still gives the old
// figures).
// CPU drivers compile for the host CPU, so their figures hold for the CPU
// model they were recorded on; another CPU model needs its own entry
// (CROSSGRAD_TEST_RECORD_GOLDEN=1 prints it).
var golden = map[string]goldenRun{
	"ref/pure-Go reference (ref:0)":                      {params: "4cdd29e6d97bcbbbf5422a7464032d029df0d1c9a53140e6c0d0ca4ec56ac877", losses: []uint32{0x4012b730, 0x40155171, 0x40121c9e, 0x40133688, 0x4013612d}},
	"opencl/pthread-haswell-AMD EPYC (opencl:0)":         {params: "5ec53d6003c3a2a050393d1376e00d32878093e15f97ad1fe4e07e5345998153", losses: []uint32{0x4012b730, 0x40155171, 0x40121c9e, 0x40133688, 0x4013612d}},
	"vulkan/llvmpipe (LLVM 15.0.6, 256 bits) (vulkan:0)": {params: "920dc3291356d86ede276a0f66ad4afda44410e091939b8edc378e53e9fb3434", losses: []uint32{0x4012b730, 0x40155171, 0x40121c9e, 0x40133688, 0x4013612d}},
}

// fiveSteps trains 5 steps of the tiny AlexNet (batch 16, dropout on) on
// spec and returns the device name and the figures.
func fiveSteps(t *testing.T, spec string) (string, goldenRun) {
	t.Helper()
	c := tinyConfig(t)
	c.Backend = []string{spec}
	c.BatchSize, c.Epochs, c.TrainLimit, c.TestLimit = 16, 1, 80, 16
	res, _, err := runTiny(t, c, Options{})
	require.NoError(t, err)
	require.Equal(t, 5, res.Step)
	ts, _, err := checkpoint.Load(res.Checkpoint)
	require.NoError(t, err)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	h := sha256.New()
	for _, tn := range ts {
		h.Write([]byte(tn.Name))
		for _, v := range tn.Data {
			_ = binary.Write(h, binary.LittleEndian, math.Float32bits(v))
		}
	}
	steps, _ := readJSONL(t, c.MetricsJSONL)
	require.Len(t, steps, 5)
	g := goldenRun{params: hex.EncodeToString(h.Sum(nil))}
	for _, s := range steps {
		g.losses = append(g.losses, math.Float32bits(float32(s.Loss)))
	}
	return res.Device, g
}

// TestGoldenFiveSteps checks that five steps on ref, PoCL and lavapipe give
// the parameters and losses recorded before the refactor, bit for bit.
func TestGoldenFiveSteps(t *testing.T) {
	heavyOnRef(t)
	for _, spec := range []string{"ref", "opencl", "vulkan"} {
		t.Run(spec, func(t *testing.T) {
			if spec != "ref" {
				needBackend(t, spec)
			}
			dev, got := fiveSteps(t, spec)
			key := spec + "/" + dev
			if os.Getenv(recordGolden) == "1" {
				fmt.Printf("\t%q: {params: %q, losses: %#v},\n", key, got.params, got.losses)
				return
			}
			want, ok := golden[key]
			if !ok {
				t.Skipf("no figures recorded for %s (a CPU model other than the one they were recorded on); run with %s=1 on the code before a refactor to record them", key, recordGolden)
			}
			assert.Equal(t, want.losses, got.losses, "loss bits of steps 1-5")
			assert.Equal(t, want.params, got.params, "SHA-256 of the parameter bits after step 5")
		})
	}
}
