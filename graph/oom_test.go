package graph_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAllocFailureNamesBufferAndBatch checks that a device running out of
// memory while the plan allocates (after the size check passed) is reported
// like a plan that does not fit: the buffer and its size, the largest
// buffers and a batch size that needs no more than what was allocated.
func TestAllocFailureNamesBufferAndBatch(t *testing.T) {
	m := tinyAlexNet(t, 0.5)
	dev := ref.New()
	defer dev.Close()
	lo, err := graph.NewLayoutFor(m.Sequential, m.InputShape(64), graph.Config{}, dev.Info())
	require.NoError(t, err)
	// Fail at the first buffer after two thirds of the plan's bytes.
	var sum uint64
	k := 0
	for sum < lo.Bytes()*2/3 {
		sum += lo.Buffers[k].Bytes()
		k++
	}
	fake := &testutil.FakeDevice{Device: dev, FailAlloc: k + 1}
	_, err = graph.New(fake, m.Sequential, m.InputShape(64), graph.Config{})
	require.Error(t, err)
	var ae *graph.AllocError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, k, ae.Index)
	assert.Equal(t, sum, ae.Allocated)
	assert.Equal(t, lo.Buffers[k].Name, ae.Buffer.Name)
	msg := err.Error()
	assert.Contains(t, msg, fmt.Sprintf("graph: allocating %s (%s, buffer %d of %d) on pure-Go reference", ae.Buffer.Name, graph.MiB(ae.Buffer.Bytes()), k+1, len(lo.Buffers)))
	assert.Contains(t, msg, "fake: out of device memory")
	assert.Contains(t, msg, "the plan for batch 64 needs "+graph.MiB(lo.Bytes()))
	assert.Contains(t, msg, "largest buffers: ["+lo.Largest(1)[0].Name)
	mm := regexp.MustCompile(`batch size (\d+) needs at most`).FindStringSubmatch(msg)
	require.NotNil(t, mm, msg)
	var b int
	fmt.Sscan(mm[1], &b)
	assert.Equal(t, lo.FitBatch(infoWithMemory(sum)), b)
	assert.Less(t, b, 64)
	assert.Positive(t, b)
	assert.Equal(t, 0, dev.LiveBuffers())

	// Out of memory at the very first buffer: no batch size is offered.
	fake = &testutil.FakeDevice{Device: dev, FailAlloc: 1}
	_, err = graph.New(fake, m.Sequential, m.InputShape(64), graph.Config{})
	require.ErrorContains(t, err, "could not allocate even the first buffer")
	assert.Equal(t, 0, dev.LiveBuffers())
}

func infoWithMemory(b uint64) backend.Info { return backend.Info{GlobalMemory: b} }
