package config

import (
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDevicesKeysDefaultsAndSources(t *testing.T) {
	c, err := Load("", nil, nil)
	require.NoError(t, err)
	assert.Empty(t, c.Devices)
	assert.Empty(t, c.DeviceShares)
	assert.Equal(t, "auto", c.Distributed)
	assert.Equal(t, 50, c.ChecksumEvery)
	assert.Equal(t, 1, c.Replicas())

	c, err = Load(writeYAML(t, "devices: [OpenCL:0, vulkan:0]\ndevice_shares: [3, 1.5]\ndistributed: off\nchecksum_every: 0\n"), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"opencl:0", "vulkan:0"}, c.Devices)
	assert.Equal(t, []float64{3, 1.5}, c.DeviceShares)
	assert.Equal(t, "off", c.Distributed)
	assert.Equal(t, 0, c.ChecksumEvery)
	assert.Equal(t, 2, c.Replicas())

	c, err = Load("", []string{"CROSSGRAD_DEVICES=opencl:0, ref", "CROSSGRAD_DEVICE_SHARES=[0.75, 0.25]", "CROSSGRAD_DISTRIBUTED=mpi", "CROSSGRAD_CHECKSUM_EVERY=7"}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"opencl:0", "ref"}, c.Devices)
	assert.Equal(t, []float64{0.75, 0.25}, c.DeviceShares)
	assert.Equal(t, "mpi", c.Distributed)
	assert.Equal(t, 7, c.ChecksumEvery)

	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	RegisterFlags(fs)
	require.NoError(t, fs.Parse([]string{"--devices", "opencl:0,vulkan:0", "--device-shares", "2,1", "--distributed", "off", "--checksum-every", "3"}))
	c, err = Load("", []string{"CROSSGRAD_DEVICES=ref"}, fs)
	require.NoError(t, err)
	assert.Equal(t, []string{"opencl:0", "vulkan:0"}, c.Devices, "the flag wins over the environment")
	assert.Equal(t, []float64{2, 1}, c.DeviceShares)
	assert.Equal(t, "off", c.Distributed)
	assert.Equal(t, 3, c.ChecksumEvery)
	assert.Equal(t, []string{"auto"}, c.Backend, "--devices is not --device")

	back, err := FromJSON(c.JSON())
	require.NoError(t, err)
	assert.Equal(t, c.Devices, back.Devices)
	assert.Equal(t, c.DeviceShares, back.DeviceShares)
	assert.Contains(t, string(c.YAML()), `devices: ["opencl:0","vulkan:0"]  # `)
	assert.Contains(t, string(Default().YAML()), "devices: []  # ")
	assert.Contains(t, string(Default().YAML()), "device_shares: []  # ")
}

func TestDevicesKeysBadValuesNamed(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"devices: [opencl:0, cuda:0]", `config: devices entry "cuda:0": unknown backend "cuda"; name one device per entry as backend:index`},
		{"devices: [opencl:0, cuda:0]", "(crossgrad devices lists them)"},
		{"devices: [auto, ref]", `config: devices entry "auto" selects several devices`},
		{"devices: [gpu]", `devices entry "gpu" selects several devices`},
		{"devices: ['opencl:', ref]", `devices entry "opencl:": empty selector`},
		{"devices: [opencl:0, ref, OpenCL:0]", "config: devices lists opencl:0 twice (entries 0 and 2); list every device once"},
		{"devices: [opencl:0, ref]\ndevice_shares: [1]", "config: device_shares = [1] has 1 entries but devices lists 2 devices; give one positive number per device"},
		{"device_shares: [1, 2]", "device_shares = [1 2] has 2 entries but devices lists 1 devices"},
		{"devices: [opencl:0, ref]\ndevice_shares: [1, 0]", "config: device_shares entry 1 = 0 is invalid; allowed: positive numbers"},
		{"devices: [opencl:0, ref]\ndevice_shares: [-1, 2]", "device_shares entry 0 = -1 is invalid"},
		{"devices: [opencl:0, ref]\ndevice_shares: [a, 2]", `device_shares (from`},
		{"devices: [opencl:0, ref]\ndevice_shares: [.inf, 2]", `not a finite number`},
		{"distributed: yes", `config: distributed = "yes" is invalid; allowed: off, mpi, auto`},
		{"distributed: mp", `distributed = "mp" is invalid; allowed: off, mpi, auto (did you mean mpi?)`},
		{"checksum_every: -1", "config: checksum_every = -1 is invalid; allowed: >= 0 (0 = never)"},
		{"devices: [opencl:0, vulkan:0, ref]\nbatch_size: 2", "config: batch_size = 2 is smaller than the 3 replicas of the run (3 devices x 1 ranks); every replica needs an image of each batch: raise batch_size to at least 3"},
	}
	for _, c := range cases {
		t.Run(c.yaml, func(t *testing.T) {
			_, err := Load(writeYAML(t, c.yaml+"\n"), nil, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	_, err := Load("", []string{"CROSSGRAD_DEVICES=ref,ref"}, nil)
	require.ErrorContains(t, err, "devices lists ref twice (entries 0 and 1); list every device once (crossgrad devices lists them) (from environment CROSSGRAD_DEVICES)")
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	RegisterFlags(fs)
	require.NoError(t, fs.Parse([]string{"--device-shares", "1,x"}))
	_, err = Load("", nil, fs)
	require.ErrorContains(t, err, `device_shares (from flag --device-shares): list entry 1: "x" is not a number`)

	c := Default()
	c.Devices, c.BatchSize = []string{"ref", "opencl:0"}, 2
	require.NoError(t, c.Validate(), "one image per replica is enough")
}
