package train

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/config"
)

// parallelConfig is narrowConfig trained for 6 steps of batch 32 (192
// images, one epoch) on the devices given; test_limit 64.
func parallelConfig(t *testing.T, devices ...string) config.Config {
	t.Helper()
	c := narrowConfig(t)
	c.Devices, c.Epochs, c.TrainLimit, c.TestLimit = devices, 1, 192, 64
	require.NoError(t, c.Validate())
	return c
}

// closeLosses requires equal step counts and |got-ref| <= atol + rtol*|ref|
// for every step's loss.
func closeLosses(t *testing.T, ref, got []StepRecord, atol, rtol float64) {
	t.Helper()
	require.Len(t, got, len(ref))
	for i := range ref {
		assert.Equal(t, ref[i].Images, got[i].Images, "step %d", i+1)
		assert.LessOrEqual(t, math.Abs(got[i].Loss-ref[i].Loss), atol+rtol*math.Abs(ref[i].Loss),
			"step %d: loss %v, single device %v", i+1, got[i].Loss, ref[i].Loss)
	}
}

// closeParams requires the tensors of two checkpoints to have the same
// names and shapes and values within |got-ref| <= atol + rtol*|ref|.
func closeParams(t *testing.T, ref, got string, atol, rtol float64) {
	t.Helper()
	a, _, err := checkpoint.Load(ref)
	require.NoError(t, err)
	b, _, err := checkpoint.Load(got)
	require.NoError(t, err)
	require.Len(t, b, len(a))
	for i := range a {
		require.Equal(t, a[i].Name, b[i].Name)
		require.Equal(t, a[i].Shape, b[i].Shape)
		worst := 0.0
		for j := range a[i].Data {
			d := math.Abs(float64(b[i].Data[j]-a[i].Data[j])) - rtol*math.Abs(float64(a[i].Data[j]))
			worst = max(worst, d)
		}
		assert.LessOrEqual(t, worst, atol, "tensor %s", a[i].Name)
	}
}

func TestTwoDevicesTrainLikeOneAndTheirCheckpointResumesOnOne(t *testing.T) {
	heavyOnRef(t)
	needBackend(t, "opencl:0")
	single := parallelConfig(t)
	_, err := runSets(t, context.Background(), single, Options{}, synthSet(1, 256), synthSet(2, 128))
	require.NoError(t, err)
	ref, _ := readJSONL(t, single.MetricsJSONL)

	two := parallelConfig(t, "ref", "opencl:0")
	var out, logBuf bytes.Buffer
	o := Options{Config: two, Out: &out, Log: slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		TrainSet: synthSet(1, 256), TestSet: synthSet(2, 128)}
	res, err := Run(context.Background(), o)
	require.NoError(t, err, logBuf.String())
	ls := lines(out.String())
	require.Len(t, ls, 3, out.String())
	pocl, err := backend.Select("opencl:0")
	require.NoError(t, err)
	assert.Equal(t, "training on pure-Go reference (ref:0) + "+DeviceName(pocl[0]), ls[0])
	assert.Regexp(t, reEpoch, ls[1])
	assert.True(t, strings.HasPrefix(ls[2], "total training time "), ls[2])
	assert.True(t, strings.HasSuffix(ls[2], " images/sec on pure-Go reference (ref:0) + "+DeviceName(pocl[0])), ls[2])
	assert.Equal(t, "pure-Go reference (ref:0) + "+DeviceName(pocl[0]), res.Device)
	assert.Contains(t, logBuf.String(), "step timing", "the per-step timing at debug")
	assert.Equal(t, 6, res.Step)

	got, _ := readJSONL(t, two.MetricsJSONL)
	closeLosses(t, ref, got, 1e-5, 1e-5)
	closeParams(t, filepath.Join(single.CheckpointDir, checkpoint.Name(6)), res.Checkpoint, 1e-5, 1e-4)
	_, _, st, err := checkpoint.LoadCheckpoint(res.Checkpoint)
	require.NoError(t, err)
	assert.Equal(t, "1", st.Extra[extraRanks])

	// The two-device run's folder resumes on one device for a second epoch
	// (devices is never taken from the checkpoint).
	one := parallelConfig(t)
	one.CheckpointDir, one.MetricsJSONL, one.MetricsCSV = two.CheckpointDir, two.MetricsJSONL, two.MetricsCSV
	one.Resume, one.Epochs = two.CheckpointDir, 2
	res, err = runSets(t, context.Background(), one, Options{Explicit: map[string]bool{"epochs": true}},
		synthSet(1, 256), synthSet(2, 128))
	require.NoError(t, err)
	assert.Equal(t, 12, res.Step)
	assert.Equal(t, "pure-Go reference (ref:0)", res.Device)
}

func TestDevicesRefusedBeforeAnyFile(t *testing.T) {
	cases := []struct {
		devices []string
		batch   int
		want    string
	}{
		{[]string{"ref", "ref:0"}, 32, `train: devices entries "ref" and "ref:0" are the same device ref:0; list every device once (crossgrad devices lists them)`},
		{[]string{"ref", "ref:7"}, 32, `train: devices entry "ref:7" is not a device of this machine: device "ref:7": no such device`},
		{[]string{"ref", "ref:7"}, 32, "(crossgrad devices lists them)"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.devices), func(t *testing.T) {
			c := parallelConfig(t, tc.devices...)
			c.BatchSize = tc.batch
			_, _, err := runTiny(t, c, Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, files(t, c.CheckpointDir))
		})
	}

	c := parallelConfig(t, "ref", "opencl:0")
	c.BatchSize = 1
	_, _, err := runTiny(t, c, Options{})
	require.ErrorContains(t, err, "config: batch_size = 1 is smaller than the 2 replicas of the run (2 devices x 1 ranks)")

	// Two devices in each of three ranks need six images per batch.
	c = parallelConfig(t, "ref", "opencl:0")
	c.BatchSize = 5
	_, _, err = runTiny(t, c, Options{Comm: newWorld(3)[0]})
	require.ErrorContains(t, err, "config: batch_size = 5 is smaller than the 6 replicas of the run (2 devices x 3 ranks); every replica needs an image of each batch: raise batch_size to at least 6")
	assert.Empty(t, files(t, c.CheckpointDir))
}

func TestFailingDeviceOfSeveralEndsTheRunNamingIt(t *testing.T) {
	needBackend(t, "opencl:0")
	c := parallelConfig(t, "ref", "opencl:0")
	c.CheckpointEverySteps = 2
	lost := errors.New("fake: CL_DEVICE_NOT_AVAILABLE")
	fd := &faultyDevice{lostOnRead: true, err: lost}
	o := withFault(fd, 3)
	o.WrapDevice = func(dev backend.Device) (backend.Device, error) {
		if dev.Info().Backend != "opencl" {
			return dev, nil
		}
		fd.Device = dev
		return fd, nil
	}
	_, _, err := runTiny(t, c, o)
	var de *DeviceError
	require.ErrorAs(t, err, &de)
	assert.ErrorIs(t, err, lost)
	pocl, err2 := backend.Select("opencl:0")
	require.NoError(t, err2)
	assert.Equal(t, DeviceName(pocl[0]), de.Device, "the failing device, not the run's devices")
	assert.Equal(t, 3, de.Step)
	assert.Equal(t, ckptPath(c.CheckpointDir, 2), de.Checkpoint)
	assert.Contains(t, err.Error(), "train: step 3 (epoch 1, batch 2) failed on "+DeviceName(pocl[0])+" in read")
	assert.Contains(t, err.Error(), "; last checkpoint written: "+de.Checkpoint+" (resume with: crossgrad train --resume "+c.CheckpointDir+")")
	assert.True(t, fd.isClosed())
}
