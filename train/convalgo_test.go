package train

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGraphConfigConvAlgoAndFuse maps conv_algo, fuse and whether tune
// lets the tuner choose algorithms into the plan's configuration, and LogConvAlgos logs one line listing each convolution
// layer's algorithms and, once, which layers conv_algo winograd cannot
// take.
func TestGraphConfigConvAlgoAndFuse(t *testing.T) {
	c := tinyConfig(t)
	assert.Equal(t, graph.ConvGemm, GraphConfig(c).ConvAlgo)
	assert.False(t, GraphConfig(c).NoFuse)
	c.ConvAlgo, c.Fuse = "winograd", false
	gc := GraphConfig(c)
	assert.Equal(t, graph.ConvWinograd, gc.ConvAlgo)
	assert.True(t, gc.NoFuse)
	for tune, want := range map[string]bool{"off": false, "cached": true, "auto": true} {
		c.Tune = tune
		assert.Equal(t, want, GraphConfig(c).TunedAlgos, "tune %s", tune)
	}

	c.InputSize = 97
	m, err := NewModel(c)
	require.NoError(t, err)
	dev := ref.New()
	defer dev.Close()
	plan, err := graph.New(dev, m.Sequential, m.InputShape(2), gc)
	require.NoError(t, err)
	defer plan.Close()
	var buf bytes.Buffer
	LogConvAlgos(plan, slog.New(slog.NewTextHandler(&buf, nil)))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2, buf.String())
	assert.Contains(t, lines[0], `msg="convolution algorithms (forward/backward-data/backward-filter)" conv_algo=winograd`)
	assert.Contains(t, lines[0], `layers="conv.0 gemm/gemm, conv.3 winograd/winograd/winograd, conv.6 winograd/winograd/winograd, conv.8 winograd/winograd/winograd, conv.10 winograd/winograd/winograd"`)
	assert.Contains(t, lines[0], "scratch=")
	assert.Contains(t, lines[1], "level=WARN")
	assert.Contains(t, lines[1], "conv_algo winograd: implicit GEMM for conv.0 (11x11 stride 4")
}
