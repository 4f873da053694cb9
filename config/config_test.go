package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/presets"
)

func writeYAML(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

// stripDerived clears what Load derives so configs compare with Default().
func stripDerived(c Config) Config {
	c.CheckpointDir, c.MetricsJSONL, c.MetricsCSV, c.Source, c.Warnings = "", "", "", "", nil
	return c
}

func TestDefaults(t *testing.T) {
	c, err := Load("", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "embedded:default", c.Source)
	assert.Equal(t, Default(), stripDerived(c))
	// The seed's setting.
	assert.Equal(t, []string{"auto"}, c.Backend)
	assert.Equal(t, 224, c.InputSize)
	assert.Equal(t, 128, c.BatchSize)
	assert.Equal(t, 10, c.Epochs)
	assert.InDelta(t, 1e-3, c.LR, 0)
	assert.InDelta(t, 0.5, c.Dropout, 0)
	assert.InDelta(t, 1e-8, c.AdamEps, 0)
	assert.True(t, strings.HasPrefix(c.CheckpointDir, "runs"+string(filepath.Separator)), c.CheckpointDir)
	assert.Equal(t, filepath.Join(c.CheckpointDir, "metrics.jsonl"), c.MetricsJSONL)
	assert.Equal(t, filepath.Join(c.CheckpointDir, "metrics.csv"), c.MetricsCSV)
	require.NoError(t, Default().Validate())
}

func TestDiskFilesMatchEmbedded(t *testing.T) {
	// presets/*.yaml on disk are the embedded presets, and default.yaml spells
	// out exactly Default().
	for _, name := range presets.Names() {
		disk, err := os.ReadFile(filepath.Join("..", "presets", name+".yaml"))
		require.NoError(t, err)
		emb, ok := presets.Get(name)
		require.True(t, ok)
		assert.Equal(t, string(disk), string(emb))
	}
	c, err := Load(filepath.Join("..", "presets", "default.yaml"), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, Default(), stripDerived(c))
	assert.ElementsMatch(t, []string{"default", "cpu-quick", "vgg11-cpu-quick"}, presets.Names())
}

func TestCPUQuick(t *testing.T) {
	// By name, as a path into presets/ (run from any folder) and under the
	// folder's old name configs/.
	for _, p := range []string{"cpu-quick", "cpu-quick.yaml", "presets/cpu-quick.yaml", "presets/cpu-quick", "configs/cpu-quick.yaml"} {
		c, err := Load(p, nil, nil)
		require.NoError(t, err, p)
		assert.Equal(t, "embedded:cpu-quick", c.Source)
		assert.Equal(t, 65, c.InputSize)
		assert.InDelta(t, 0.5, c.Width, 0)
		assert.Equal(t, 3, c.Epochs)
		assert.Equal(t, 128, c.BatchSize)
		assert.InDelta(t, 0.999, c.AdamBeta2, 0) // unset keys keep defaults
	}
}

func TestFileValues(t *testing.T) {
	p := writeYAML(t, `
backend: [vulkan:0, OpenCL, ref]
input_size: 97
width: 0.5
batch_size: 64
lr: 1e-3
adam_eps: 1
seed: 12345678901
data_dir: /tmp/x
train_limit: 1000
checkpoint_dir: /tmp/run1
metrics_csv: "off"
quiet: true
log_level: debug
`)
	c, err := Load(p, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, p, c.Source)
	assert.Equal(t, []string{"vulkan:0", "opencl", "ref"}, c.Backend)
	assert.Equal(t, 97, c.InputSize)
	assert.InDelta(t, 0.5, c.Width, 0)
	assert.Equal(t, 64, c.BatchSize)
	assert.InDelta(t, 1e-3, c.LR, 0)
	assert.InDelta(t, 1.0, c.AdamEps, 0)
	assert.Equal(t, int64(12345678901), c.Seed)
	assert.Equal(t, "/tmp/x", c.DataDir)
	assert.Equal(t, 1000, c.TrainLimit)
	assert.Equal(t, "/tmp/run1", c.CheckpointDir)
	assert.Equal(t, "/tmp/run1/metrics.jsonl", c.MetricsJSONL)
	assert.Equal(t, "", c.MetricsCSV)
	assert.True(t, c.Quiet)
	assert.Equal(t, "debug", c.LogLevel)
	assert.Equal(t, 10, c.Epochs) // default kept
}

func TestEnvOverride(t *testing.T) {
	p := writeYAML(t, "batch_size: 32\nepochs: 2\n")
	env := []string{
		"CROSSGRAD_BACKEND=vulkan:0",
		"CROSSGRAD_BATCH_SIZE=64",
		"CROSSGRAD_LR=0.01",
		"CROSSGRAD_QUIET=true",
		"CROSSGRAD_DATA_DIR=/data",
		"CROSSGRAD_VK_VALIDATION=1", // read by the Vulkan backend, not a key
		"HOME=/root",
	}
	c, err := Load(p, env, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"vulkan:0"}, c.Backend)
	assert.Equal(t, 64, c.BatchSize) // env beats file
	assert.Equal(t, 2, c.Epochs)     // file beats default
	assert.InDelta(t, 0.01, c.LR, 0)
	assert.True(t, c.Quiet)
	assert.Equal(t, "/data", c.DataDir)
	assert.Empty(t, c.Warnings)

	c, err = Load(p, []string{"CROSSGRAD_BACKEND=vulkan, opencl ,ref"}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"vulkan", "opencl", "ref"}, c.Backend)

	// Every key is overridable from the environment.
	for _, k := range Keys() {
		assert.Equal(t, "CROSSGRAD_"+strings.ToUpper(k), EnvName(k))
	}
	c, err = Load("", []string{"CROSSGRAD_CONFIG=cpu-quick"}, nil)
	require.NoError(t, err)
	assert.Equal(t, 65, c.InputSize)
}

func TestFlagOverride(t *testing.T) {
	p := writeYAML(t, "batch_size: 32\nepochs: 2\nwidth: 0.5\n")
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	RegisterFlags(fs)
	require.NoError(t, fs.Parse([]string{"--batch-size=16", "--backend", "opencl:1,ref", "--lr", "0.002", "--quiet", "--seed", "9", "--checkpoint-dir", "/tmp/r"}))
	c, err := Load(p, []string{"CROSSGRAD_BATCH_SIZE=64", "CROSSGRAD_EPOCHS=3"}, fs)
	require.NoError(t, err)
	assert.Equal(t, 16, c.BatchSize) // flag beats env and file
	assert.Equal(t, 3, c.Epochs)     // env beats file
	assert.InDelta(t, 0.5, c.Width, 0)
	assert.Equal(t, []string{"opencl:1", "ref"}, c.Backend)
	assert.InDelta(t, 0.002, c.LR, 0)
	assert.True(t, c.Quiet)
	assert.Equal(t, int64(9), c.Seed)
	assert.Equal(t, "/tmp/r", c.CheckpointDir)
	assert.Equal(t, 224, c.InputSize) // unset flag does not override

	// --config picks the file, over CROSSGRAD_CONFIG and the path argument.
	fs = pflag.NewFlagSet("t", pflag.ContinueOnError)
	RegisterFlags(fs)
	require.NoError(t, fs.Parse([]string{"--config", p}))
	c, err = Load("cpu-quick", []string{"CROSSGRAD_CONFIG=/nonexistent.yaml"}, fs)
	require.NoError(t, err)
	assert.Equal(t, p, c.Source)
	assert.Equal(t, 32, c.BatchSize)

	// Every key has a flag.
	for _, k := range Keys() {
		assert.NotNil(t, fs.Lookup(FlagName(k)), k)
	}
	// A flag set with only some of the flags works.
	small := pflag.NewFlagSet("s", pflag.ContinueOnError)
	small.Int("epochs", 1, "")
	require.NoError(t, small.Parse([]string{"--epochs=4"}))
	c, err = Load("", nil, small)
	require.NoError(t, err)
	assert.Equal(t, 4, c.Epochs)
}

func TestUnknownKey(t *testing.T) {
	p := writeYAML(t, "batch_size: 32\nbatchsize: 1\nmodel:\n  depth: 3\n")
	_, err := Load(p, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown key(s) batchsize, model.depth")
	assert.Contains(t, err.Error(), "batch_size")
	assert.Contains(t, err.Error(), p)
}

func TestBadValues(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"batch_size: -1", "batch_size = -1 is invalid; allowed: 1..65536"},
		{"batch_size: 0", "batch_size = 0 is invalid"},
		{"batch_size: 12.5", "batch_size (from"},
		{"batch_size: abc", `"abc" is not an integer`},
		{"input_size: 0", "input_size = 0 is invalid; allowed: 1..1024"},
		{"input_size: 1025", "input_size = 1025 is invalid; allowed: 1..1024"},
		{"model: ''", `model = "" is invalid`},
		{"lr: 0", "lr = 0 is invalid; allowed: 0 < lr <= 1"},
		{"lr: -0.1", "lr = -0.1 is invalid"},
		{"lr: .nan", "not a finite number"},
		{"dropout: 1", "dropout = 1 is invalid; allowed: 0 <= dropout < 1"},
		{"width: 0", "width = 0 is invalid"},
		{"width: 5", "width = 5 is invalid"},
		{"epochs: 0", "epochs = 0 is invalid"},
		{"seed: -3", "seed = -3 is invalid"},
		{"adam_beta1: 1", "adam_beta1 = 1 is invalid"},
		{"adam_eps: 0", "adam_eps = 0 is invalid"},
		{"train_limit: -1", "train_limit = -1 is invalid"},
		{"checkpoint_every_steps: -5", "checkpoint_every_steps = -5 is invalid"},
		{"checkpoint_every_minutes: -1", "checkpoint_every_minutes = -1 is invalid"},
		{"log_level: loud", `log_level = "loud" is invalid; allowed: debug, info, warn, error`},
		{"quiet: maybe", "not a boolean"},
		{"data_dir: ''", "data_dir"},
		{"backend: cuda", `unknown backend "cuda"`},
		{"backend: [vulkan, cuda:0]", `unknown backend "cuda"`},
		{"backend: auto:1", "auto takes no selector"},
		{"backend: 'opencl:'", "empty selector"},
		{"backend: []", "backend is empty"},
		{"backend: [1, 2]", "list entry 0"},
		{"backend: {a: 1}", "unknown key(s) backend.a"},
		{"batch_size: [1]", "is not an integer"},
		{"epochs: 1e30", "not an integer"},
	}
	for _, c := range cases {
		t.Run(c.yaml, func(t *testing.T) {
			_, err := Load(writeYAML(t, c.yaml+"\n"), nil, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	// Origins are named, and every problem is reported at once.
	_, err := Load(writeYAML(t, "batch_size: -1\n"), []string{"CROSSGRAD_LR=0", "CROSSGRAD_EPOCHS=x"}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "epochs (from environment CROSSGRAD_EPOCHS)")
	_, err = Load(writeYAML(t, "batch_size: -1\n"), []string{"CROSSGRAD_LR=0"}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "(from environment CROSSGRAD_LR)")
	assert.Contains(t, err.Error(), "batch_size = -1")
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	RegisterFlags(fs)
	require.NoError(t, fs.Parse([]string{"--input-size=0"}))
	_, err = Load("", nil, fs)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "(from flag --input-size)")
}

func TestNullKeepsDefault(t *testing.T) {
	// viper treats an explicit null as unset: the default applies.
	c, err := Load(writeYAML(t, "seed:\nepochs: ~\n"), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Seed)
	assert.Equal(t, 10, c.Epochs)
}

func TestFileErrors(t *testing.T) {
	_, err := Load("/nonexistent/dir/c.yaml", nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/nonexistent/dir/c.yaml not found")
	assert.Contains(t, err.Error(), "cpu-quick")
	_, err = Load("nosuch", nil, nil)
	require.ErrorContains(t, err, "not found")

	_, err = Load(writeYAML(t, "batch_size: [1\n"), nil, nil)
	require.ErrorContains(t, err, "not valid YAML")
	_, err = Load(writeYAML(t, "batch_size: 1\nbatch_size: 2\n"), nil, nil)
	require.Error(t, err)
	_, err = Load(t.TempDir(), nil, nil) // a directory
	require.Error(t, err)
}

func TestJSONRoundTrip(t *testing.T) {
	c, err := Load("cpu-quick", []string{"CROSSGRAD_BACKEND=vulkan:0,ref"}, nil)
	require.NoError(t, err)
	back, err := FromJSON(c.JSON())
	require.NoError(t, err)
	c.Source, c.Warnings = "", nil
	assert.Equal(t, c, back)
	_, err = FromJSON(`{"batch_size": 0}`)
	require.ErrorContains(t, err, "batch_size")
	_, err = FromJSON(`{"nope": 1}`)
	require.ErrorContains(t, err, "nope")
}

func TestFillDerived(t *testing.T) {
	c := Default()
	c.MetricsJSONL = "OFF"
	c.MetricsCSV = "/x/m.csv"
	c.fillDerived(time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC), 42)
	assert.Equal(t, filepath.Join("runs", "20250304-050607-42"), c.CheckpointDir)
	assert.Equal(t, "", c.MetricsJSONL)
	assert.Equal(t, "/x/m.csv", c.MetricsCSV)
}
