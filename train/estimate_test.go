package train

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/config"
)

func TestCPUEstimateMessage(t *testing.T) {
	quick, err := cpuQuick()
	require.NoError(t, err)
	seed := config.Default()

	// The seed's run: 469 steps of 10 epochs and 79 test batches per epoch,
	// at 2 s a step.
	e := cpuEstimate{device: "cpu (opencl:0)", cfg: seed, stepsLeft: 4690, testLeft: 790, perStep: 2}
	assert.Equal(t, 9907*time.Second, e.remaining(), "4690 steps and 790/3 step-equivalents of test batches, at 2 s")
	msg := e.message(quick, true)
	assert.Equal(t, "cpu (opencl:0) is a CPU device: the remaining 4690 steps of this 10-epoch run (input 224, width 1) "+
		"will take about 2h45m7s (2.000 s per step of 128 images); "+
		"for a quick CPU run use --config cpu-quick (input 65, width 0.5, 3 epochs)", msg)

	// A tiny run: nothing to say.
	tiny := cpuEstimate{device: "d", cfg: seed, stepsLeft: 11, testLeft: 1, perStep: 0.01}
	assert.Empty(t, tiny.message(quick, true))
	// Just over the threshold, just under it.
	over := cpuEstimate{device: "d", cfg: seed, stepsLeft: 601, perStep: 1}
	assert.NotEmpty(t, over.message(quick, true))
	under := cpuEstimate{device: "d", cfg: seed, stepsLeft: 600, perStep: 1}
	assert.Empty(t, under.message(quick, true))

	// cpu-quick itself (also when resumed under another config name) on a
	// slow machine: the time, but no suggestion to use what it is.
	q := quick
	q.Source = "embedded:default"
	slow := cpuEstimate{device: "d", cfg: q, stepsLeft: 1407, testLeft: 237, perStep: 1}
	msg = slow.message(quick, true)
	assert.Contains(t, msg, "this 3-epoch run (input 65, width 0.5)")
	assert.NotContains(t, msg, "cpu-quick")
	// Lighter than cpu-quick in work, though with more epochs: no suggestion.
	light := quick
	light.Width, light.Epochs = 0.25, 10
	assert.NotContains(t, cpuEstimate{device: "d", cfg: light, stepsLeft: 5000, perStep: 1}.message(quick, true), "cpu-quick")
	// Heavier by width alone: suggested.
	wide := quick
	wide.Width = 1
	assert.Contains(t, cpuEstimate{device: "d", cfg: wide, stepsLeft: 5000, perStep: 1}.message(quick, true), "--config cpu-quick")
	assert.NotContains(t, cpuEstimate{device: "d", cfg: wide, stepsLeft: 5000, perStep: 1}.message(quick, false), "cpu-quick")
}
