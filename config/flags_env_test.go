package config

import (
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUnknownEnvRefusedWithSuggestion(t *testing.T) {
	_, err := Load("", []string{"CROSSGRAD_EPOCH=3"}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown environment variable CROSSGRAD_EPOCH (did you mean CROSSGRAD_EPOCHS?)")
	assert.Contains(t, err.Error(), "CROSSGRAD_BATCH_SIZE")

	_, err = Load("", []string{"CROSSGRAD_NOTHING_LIKE_IT=1"}, nil)
	require.ErrorContains(t, err, "unknown environment variable CROSSGRAD_NOTHING_LIKE_IT; unset it")

	// The variables read elsewhere pass.
	c, err := Load("", []string{"CROSSGRAD_VK_VALIDATION=1", "CROSSGRAD_TEST_BE_MAIN=1", "CROSSGRAD_BENCH_BATCH=8",
		"CROSSGRAD_CONFIG=cpu-quick", "CROSSGRAD_EPOCHS=2"}, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, c.Epochs)
	assert.Equal(t, 65, c.InputSize)
}

func TestDeviceAliasKey(t *testing.T) {
	c, err := Load("", []string{"CROSSGRAD_DEVICE=[ref, opencl:1]"}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"ref", "opencl:1"}, c.Backend)

	_, err = Load("", []string{"CROSSGRAD_DEVICE=ref", "CROSSGRAD_BACKEND=opencl"}, nil)
	require.ErrorContains(t, err, "CROSSGRAD_BACKEND and CROSSGRAD_DEVICE both set backend")

	c, err = Load(writeYAML(t, "device: [vulkan:0, gpu, all]\nepochs: 2\n"), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"vulkan:0", "gpu", "all"}, c.Backend)
	assert.Equal(t, 2, c.Epochs)

	_, err = Load(writeYAML(t, "device: ref\nbackend: ref\n"), nil, nil)
	require.ErrorContains(t, err, "device and backend are the same key")
}

func TestDeviceFlagAndAlias(t *testing.T) {
	for _, name := range []string{"--device", "--backend"} {
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		RegisterFlags(fs)
		require.NoError(t, fs.Parse([]string{name, "[vulkan:0, OpenCL, ref]"}), name)
		c, err := Load("", nil, fs)
		require.NoError(t, err, name)
		assert.Equal(t, []string{"vulkan:0", "opencl", "ref"}, c.Backend, name)
	}
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	RegisterFlags(fs)
	require.NoError(t, fs.Parse([]string{"--device", "cuda"}))
	_, err := Load("", nil, fs)
	require.ErrorContains(t, err, "(from flag --device)")
	assert.Equal(t, "device", fs.Lookup("backend").Name, "--backend is --device")
}

func TestRegisterFlagsOnlyTheKeysGiven(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	RegisterFlags(fs, "input_size", "width")
	assert.NotNil(t, fs.Lookup("input-size"))
	assert.NotNil(t, fs.Lookup("width"))
	assert.NotNil(t, fs.Lookup(ConfigFlag))
	assert.Nil(t, fs.Lookup("lr"))
	assert.Nil(t, fs.Lookup("device"))
	require.Error(t, fs.Parse([]string{"--lr", "5"}))

	all := pflag.NewFlagSet("a", pflag.ContinueOnError)
	RegisterFlags(all)
	for _, k := range Keys() {
		assert.NotNil(t, all.Lookup(FlagName(k)), k)
	}
	assert.Panics(t, func() { RegisterFlags(pflag.NewFlagSet("p", pflag.ContinueOnError), "no_such_key") })
}

func TestDeviceSelections(t *testing.T) {
	l := ParseBackends(`[vulkan:0, "opencl", ref]`)
	assert.Equal(t, []string{"vulkan:0", "opencl", "ref"}, l)
	require.NoError(t, ValidateBackends(l))
	require.NoError(t, ValidateBackends(ParseBackends("gpu,all,auto")))
	require.ErrorContains(t, ValidateBackends([]string{"gpu:1"}), `backend entry "gpu:1": gpu takes no selector`)
	require.ErrorContains(t, ValidateBackends(ParseBackends("[]")), "backend is empty")
}

func TestSuggest(t *testing.T) {
	flags := []string{"batch-size", "epochs", "input-size", "test-limit", "width"}
	assert.Equal(t, "batch-size", Suggest("batch_size", flags))
	assert.Equal(t, "batch-size", Suggest("BATCH-SIZE", flags))
	assert.Equal(t, "epochs", Suggest("epoch", flags))
	assert.Equal(t, "input-size", Suggest("inputsize", flags))
	assert.Equal(t, "", Suggest("lr", flags))
	assert.Equal(t, "", Suggest("limit", flags))
	assert.Equal(t, "", Suggest("epochs", flags), "no suggestion for a name that exists")

	_, err := Load(writeYAML(t, "epoch: 3\n"), nil, nil)
	require.ErrorContains(t, err, "unknown key(s) epoch (epoch: did you mean epochs?)")
}

func TestEmbedded(t *testing.T) {
	q, err := Embedded("cpu-quick")
	require.NoError(t, err)
	assert.Equal(t, "embedded:cpu-quick", q.Source)
	assert.Equal(t, 65, q.InputSize)
	assert.InDelta(t, 0.5, q.Width, 0)
	assert.Equal(t, 3, q.Epochs)
	_, err = Embedded("nosuch")
	require.EqualError(t, err, `config: no embedded preset "nosuch"; embedded presets: cpu-quick, default, vgg11-cpu-quick`)
}

func TestMissingFileNamesThePresets(t *testing.T) {
	for _, p := range []string{"presets/nosuch.yaml", "nosuch", "configs/nosuch.yaml"} {
		_, err := Load(p, nil, nil)
		require.EqualError(t, err, "config: file "+p+" not found; pass an existing YAML file with --config (or CROSSGRAD_CONFIG), or an embedded preset: cpu-quick, default, vgg11-cpu-quick", p)
	}
}
