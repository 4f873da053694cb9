package bench

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

func TestBenchBatchIsTheConfiguredOneEverywhere(t *testing.T) {
	c := tinyConfig()
	c.BatchSize = 128
	cpu := backend.Info{Type: backend.CPUDevice}
	gpu := backend.Info{Type: backend.DiscreteGPU}
	ref := backend.Info{Type: backend.Reference}
	o := Options{Config: c}
	assert.Equal(t, []int{128, 128, 128}, []int{o.BatchFor(cpu), o.BatchFor(gpu), o.BatchFor(ref)}, "as train runs")
	o.CPUBatch = 8
	assert.Equal(t, []int{8, 128, 8}, []int{o.BatchFor(cpu), o.BatchFor(gpu), o.BatchFor(ref)}, "only when told")
	assert.Equal(t, 0, Options{}.withDefaults().CPUBatch, "no CPU batch of its own by default")
}

func TestBenchReportSaysBatchAndExplainsColumns(t *testing.T) {
	var md, txt bytes.Buffer
	require.NoError(t, intelReport().WriteMarkdown(&md))
	require.NoError(t, intelReport().WriteText(&txt))
	m := md.String()
	assert.Regexp(t, `^# crossgrad bench v1\.2\.0, 2026-11-28 08:00 UTC\n`, m, "a top-level heading")
	assert.Equal(t, 1, len(regexp.MustCompile(`(?m)^# `).FindAllString(m, -1)), "one title")
	assert.Regexp(t, `(?m)^## opencl:0 Intel\(R\) UHD Graphics$`, m)
	assert.Regexp(t, `(?m)^## What the figures mean$`, m)

	for _, out := range []string{m, txt.String()} {
		assert.Contains(t, out, "batch 128 on every device (batch_size, as train runs)")
		assert.Contains(t, out, "kernels at the shapes of a batch-128 training step:")
		assert.Contains(t, out, "training step (batch 128, input 224): 95.50 images/s")
		assert.Contains(t, out, "- % copy: GB/s as a percentage of the device's measured copy bandwidth ceiling")
		assert.Contains(t, out, "It can exceed 100%")
		assert.Contains(t, out, "L2/L3")
		assert.Contains(t, out, "- pytorch cpu (malloc kept): PyTorch's CPU run again with "+MallocTunables)
		assert.Contains(t, out, "- vs PyTorch: crossgrad's images/s divided by PyTorch's")
		assert.Contains(t, out, "- % FMA: GFLOP/s as a percentage of the device's FMA ceiling")
		assert.Contains(t, out, "- batch: images per training step")
	}
	assert.Contains(t, txt.String(), "\n== What the figures mean ==\n")
	assert.Contains(t, m, "\n- % copy: ", "a Markdown list item")

	// The legend explains only what the report shows.
	a := amdReport()
	a.PyTorch, a.Devices[0].VsTorch, a.Devices[0].Kernels, a.Devices[0].Layers = nil, nil, nil, nil
	var plain bytes.Buffer
	require.NoError(t, a.WriteText(&plain))
	assert.NotContains(t, plain.String(), "malloc kept")
	assert.NotContains(t, plain.String(), "% copy:")
	assert.Contains(t, plain.String(), "- FMA GFLOP/s, copy GB/s: the device's ceilings")

	// A CPU batch of its own is said, with why its rates differ from train's.
	a.Settings.CPUBatch = 8
	plain.Reset()
	require.NoError(t, a.WriteText(&plain))
	assert.Contains(t, plain.String(), "batch 128 on GPUs, 8 on CPU drivers and ref (--cpu-batch: their images/s are not those of train at batch 128)")
}

func TestBenchReportLayerCaptionHasBatch(t *testing.T) {
	var txt bytes.Buffer
	require.NoError(t, amdReport().WriteText(&txt))
	assert.Contains(t, txt.String(), "per layer at batch 128 (device-time medians")
	assert.True(t, strings.HasPrefix(txt.String(), "\n== crossgrad bench v1.2.0"), txt.String()[:40])
}
