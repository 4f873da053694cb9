package vulkan

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
)

// openValidated opens device 0 with VK_LAYER_KHRONOS_validation.
func openValidated() (backend.Device, error) { return OpenDevice(0, Options{Validation: true}) }

// requireValidation skips when the validation layer is not installed,
// except in CI, which installs it.
func requireValidation(t *testing.T) {
	t.Helper()
	if ValidationAvailable() {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (Debian package vulkan-validationlayers)", validationLayer)
	}
	t.Skipf("%s is not installed (Debian package vulkan-validationlayers)", validationLayer)
}

// TestConformanceValidation runs the conformance suite (without its large
// cases) with the validation layer and fails on any error-class message.
func TestConformanceValidation(t *testing.T) {
	dev := backendtest.OpenOrSkip(t, openValidated)
	requireValidation(t)
	d := dev.(*Device)
	rep := backendtest.Run(dev, backendtest.Options{Short: true})
	failed := 0
	for _, r := range rep.Results {
		if r.Err != nil || !r.Pass {
			failed++
			if failed <= 10 {
				t.Errorf("%s: %v %s", r.Name(), r.Err, r.Detail())
			}
		}
	}
	assert.Zero(t, failed, "%d of %d checks failed under validation", failed, len(rep.Results))
	vl := d.Validation()
	require.NotNil(t, vl)
	assert.Empty(t, vl.Errors(), "validation errors")
	for _, w := range vl.Warnings() {
		t.Logf("validation performance warning: %s", w)
	}
	require.NoError(t, dev.Close())
	assert.Empty(t, vl.Errors(), "validation errors at close")
	t.Logf("%d checks ran under %s", len(rep.Results), validationLayer)
}

// TestConformanceStaged runs the conformance suite (without its large
// cases) through the discrete-GPU memory path: device-local buffers written
// and read through staging copies recorded into the command stream; under
// validation when the layer is installed.
func TestConformanceStaged(t *testing.T) {
	opts := Options{Validation: ValidationAvailable(), forceStaging: true}
	d := openOrSkip(t, opts)
	require.False(t, d.direct)
	rep := backendtest.Run(d, backendtest.Options{Short: true})
	failed := 0
	for _, r := range rep.Results {
		if r.Err != nil || !r.Pass {
			failed++
			if failed <= 10 {
				t.Errorf("%s: %v %s", r.Name(), r.Err, r.Detail())
			}
		}
	}
	assert.Zero(t, failed, "%d of %d checks failed with staged transfers", failed, len(rep.Results))
	require.NoError(t, d.Close())
}

// TestConformanceSplit runs the cases of the kernels that split large
// buffers with maxStorageBufferRange lowered, so that they run as several
// windowed dispatches (lavapipe's real limit is 128 MiB, which AlexNet's
// conv1 activations exceed at batch 128). Each case uses the smallest of a
// few limits at which its windows (one image, plane or row at least) fit;
// every splittable kernel must be covered. Under validation when the layer
// is installed.
func TestConformanceSplit(t *testing.T) {
	ranges := []uint32{4 << 10, 64 << 10, 1 << 20}
	runners := make([]*backendtest.Runner, len(ranges))
	for i, r := range ranges {
		d := openOrSkip(t, Options{Validation: ValidationAvailable(), maxRange: r})
		runners[i] = backendtest.NewRunner(d)
		defer func() {
			runners[i].Close()
			require.NoError(t, d.Close())
		}()
	}
	unsplittable := map[backend.Kernel]bool{backend.KGemm: true, backend.KSoftmaxXent: true, backend.KResizeBilinear: true,
		backend.KWinogradInput: true, backend.KWinogradFilter: true, backend.KWinogradOutput: true,
		backend.KWinogradDy: true, backend.KWinogradDw: true}
	covered := map[backend.Kernel]int{}
	// Convolutions of several images, each small enough for a 4 KiB window.
	g := backend.NewConv2DShape(6, 3, 8, 8, 4, 3, 3, 1, 1)
	g2 := backend.NewConv2DShape(5, 3, 11, 11, 3, 3, 3, 2, 0)
	cases := backendtest.Cases()
	for _, g := range []backend.Conv2DShape{g, g2} {
		sym := backendtest.Symmetric(1)
		cases = append(cases,
			backendtest.Case{Name: "split", Params: backend.Conv2DFwd{Conv2DShape: g},
				Init: []backendtest.Gen{sym, sym, sym, nil}, Slack: 3},
			backendtest.Case{Name: "split", Params: backend.Conv2DBwdData{Conv2DShape: g},
				Init: []backendtest.Gen{sym, sym, nil}, Slack: 3},
			backendtest.Case{Name: "split", Params: backend.Conv2DBwdFilter{Conv2DShape: g},
				Init: []backendtest.Gen{sym, sym, nil, nil}, Slack: 3},
			backendtest.Case{Name: "split_mask_relu", Params: backend.Conv2DBwdData{Conv2DShape: g, MaskRelu: 1},
				Init: []backendtest.Gen{sym, sym, nil, sym}, Slack: 3},
			backendtest.Case{Name: "split_mask_relu", Params: backend.Conv2DBwdFilter{Conv2DShape: g, MaskRelu: 1},
				Init: []backendtest.Gen{sym, sym, nil, nil, sym}, Slack: 3})
	}
	for _, c := range cases {
		if unsplittable[c.Kernel()] || c.Large {
			continue
		}
		for i, r := range ranges {
			biggest := 0
			for _, n := range c.Params.BufferSizes() {
				biggest = max(biggest, n)
			}
			if uint64(biggest)*4 <= uint64(r) {
				break // fits without splitting
			}
			res := runners[i].RunCase(c)
			if res.Err != nil && (strings.Contains(res.Err.Error(), "does not fit a window") ||
				strings.Contains(res.Err.Error(), "exceed the device's maxStorageBufferRange")) {
				continue // one image or row, or the weights, exceed r: try a larger limit
			}
			if assert.NoError(t, res.Err, "%s (max range %d)", res.Name(), r) &&
				assert.True(t, res.Pass, "%s (max range %d): %s", res.Name(), r, res.Detail()) {
				covered[c.Kernel()]++
			}
			break
		}
	}
	for _, k := range backend.Kernels() {
		if !unsplittable[k] {
			assert.Positive(t, covered[k], "no case of %s ran split", k)
		}
	}
	t.Logf("split cases per kernel: %v", covered)
}

// TestTexelVariantsValidation runs the small conformance cases of the four
// tiled kernels through texel variants (tx=1: direct, with single and 4-wide
// texels for gemm, and staged through shared memory) under the validation
// layer: the results must match the reference, and the uniform texel buffer
// views, their formats, ranges and offsets must be valid Vulkan.
func TestTexelVariantsValidation(t *testing.T) {
	dev := backendtest.OpenOrSkip(t, openValidated)
	requireValidation(t)
	d := dev.(*Device)
	st := staged(8, 8, 32, 32, 8)
	st.tx = 1
	var vs []backendtest.TileVariant
	for _, k := range backend.TiledKernels() {
		cfgs := []tileCfg{texelCfg(8, 8, 4, 1, 1), st}
		if k == backend.KGemm {
			cfgs = append(cfgs, texelCfg(8, 16, 8, 4, 4))
		}
		for _, c := range cfgs {
			vs = append(vs, backendtest.TileVariant{Kernel: k, Config: c.config()})
		}
	}
	rep := backendtest.RunTileVariants([]backend.Device{dev}, vs)
	assert.GreaterOrEqual(t, rep.Runs, 2*len(vs), "at least two cases per variant")
	for _, msg := range rep.Failures {
		t.Error(msg)
	}
	require.NoError(t, dev.Close())
	assert.Empty(t, d.Validation().Errors(), "validation errors")
	t.Logf("%d case runs of %d texel variants under %s", rep.Runs, len(vs), validationLayer)
}
