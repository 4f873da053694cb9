//go:build !mpi

package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

func TestTrainDevicesFlagCLI(t *testing.T) {
	if _, err := backend.Select("opencl:0"); err != nil {
		t.Skipf("no PoCL: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	data, err := procData()
	require.NoError(t, err)
	out, errOut, err := execute(t, context.Background(), "train", "--devices", "ref,opencl:0", "--device-shares", "1,3", "--input-size", "65",
		"--width", "0.015625", "--batch-size", "16", "--train-limit", "32", "--test-limit", "16", "--epochs", "1", "--data-dir", data,
		"--checkpoint-dir", dir, "--tune", "off")
	require.NoError(t, err, errOut)
	ls := outLines(out)
	require.Len(t, ls, 3, out)
	assert.True(t, strings.HasPrefix(ls[0], "training on pure-Go reference (ref:0) + "), ls[0])
	assert.True(t, strings.HasSuffix(ls[0], " (opencl:0)"), ls[0])
	assert.Regexp(t, reEpochLine, ls[1])
	assert.Contains(t, errOut, "shares", "the device shares are logged")
	assert.FileExists(t, filepath.Join(dir, "ckpt-000000002.safetensors"))
}

func TestTrainDevicesAndDistributedRefusedCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	cases := []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"--devices", "ref,cuda:0"}, `config: devices entry "cuda:0": unknown backend "cuda"; name one device per entry as backend:index`},
		{nil, []string{"--devices", "ref,ref:0"}, `train: devices entries "ref" and "ref:0" are the same device ref:0; list every device once (crossgrad devices lists them)`},
		{nil, []string{"--devices", "ref,ref:3"}, `train: devices entry "ref:3" is not a device of this machine`},
		{nil, []string{"--devices", "ref,opencl:0", "--batch-size", "1"}, "config: batch_size = 1 is smaller than the 2 replicas of the run (2 devices x 1 ranks)"},
		{nil, []string{"--devices", "ref,opencl:0", "--device-shares", "1,0"}, "config: device_shares entry 1 = 0 is invalid; allowed: positive numbers"},
		{nil, []string{"--distributed", "mpi"}, "train: distributed = mpi: mpi: not available: this crossgrad was built without MPI: install libopenmpi-dev and build with `make build-mpi`"},
		{[]string{"OMPI_COMM_WORLD_SIZE=2"}, nil, "train: distributed = auto: OMPI_COMM_WORLD_SIZE=2 says an MPI launcher started this process, but MPI cannot run: mpi: not available: this crossgrad was built without MPI"},
	}
	for _, c := range cases {
		t.Run(strings.Join(append(c.env, c.args...), " "), func(t *testing.T) {
			_, errOut, code := runMain(t, c.env, procArgs(t, dir, c.args...)...)
			assert.Equal(t, 1, code)
			assert.Contains(t, errOut, c.want)
			assert.NoDirExists(t, dir, "nothing written")
		})
	}
}
