package config

import (
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTuneKeysDefaultsAndSources(t *testing.T) {
	c, err := Load("", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "cached", c.Tune)
	assert.Equal(t, "60s", c.TuneBudget)
	assert.Equal(t, time.Minute, c.Budget())

	c, err = Load(writeYAML(t, "tune: auto\ntune_budget: 2m\n"), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "auto", c.Tune)
	assert.Equal(t, 2*time.Minute, c.Budget())

	c, err = Load("", []string{"CROSSGRAD_TUNE=off", "CROSSGRAD_TUNE_BUDGET=1m30s"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "off", c.Tune)
	assert.Equal(t, 90*time.Second, c.Budget())

	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	RegisterFlags(fs)
	require.NoError(t, fs.Parse([]string{"--tune", "auto", "--tune-budget", "3s"}))
	c, err = Load("", []string{"CROSSGRAD_TUNE=off"}, fs)
	require.NoError(t, err)
	assert.Equal(t, "auto", c.Tune, "the flag wins over the environment")
	assert.Equal(t, 3*time.Second, c.Budget())

	back, err := FromJSON(c.JSON())
	require.NoError(t, err)
	assert.Equal(t, "auto", back.Tune)
	assert.Equal(t, "3s", back.TuneBudget)
}

func TestTuneKeysBadValuesNamed(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"tune: fast", `config: tune = "fast" is invalid; allowed: off, cached, auto`},
		{"tune: cache", `tune = "cache" is invalid; allowed: off, cached, auto (did you mean cached?)`},
		{"tune: ''", `tune = "" is invalid; allowed: off, cached, auto`},
		{"tune_budget: 90", `tune_budget = "90" is invalid; allowed: a duration with a unit, above 0 and at most 24h, e.g. 60s, 2m or 1m30s`},
		{"tune_budget: -5s", `tune_budget = "-5s" is invalid; allowed: a duration with a unit`},
		{"tune_budget: 0s", `tune_budget = "0s" is invalid`},
		{"tune_budget: soon", `tune_budget = "soon" is invalid`},
		{"tune_budget: 25h", `tune_budget = "25h" is invalid; allowed: a duration with a unit, above 0 and at most 24h`},
	}
	for _, c := range cases {
		t.Run(c.yaml, func(t *testing.T) {
			_, err := Load(writeYAML(t, c.yaml+"\n"), nil, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	_, err := Load("", []string{"CROSSGRAD_TUNE=sometimes"}, nil)
	require.ErrorContains(t, err, `tune = "sometimes" is invalid; allowed: off, cached, auto (from environment CROSSGRAD_TUNE)`)
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	RegisterFlags(fs)
	require.NoError(t, fs.Parse([]string{"--tune-budget", "-1m"}))
	_, err = Load("", nil, fs)
	require.ErrorContains(t, err, `tune_budget = "-1m" is invalid`)
	require.ErrorContains(t, err, "(from flag --tune-budget)")

	d, err := ParseTuneBudget(" 100ms ")
	require.NoError(t, err)
	assert.Equal(t, 100*time.Millisecond, d, "a tiny budget is allowed")
	_, err = ParseTuneBudget("24h0m1s")
	require.Error(t, err)
}

func TestTuneEnvIsAKeyAndOtherTuneVariablesAreRefused(t *testing.T) {
	_, err := Load("", []string{"CROSSGRAD_TUNE_DEFS=X"}, nil)
	require.ErrorContains(t, err, "unknown environment variable CROSSGRAD_TUNE_DEFS; unset it")
	_, err = Load("", []string{"CROSSGRAD_TUNE_BUDGE=1m"}, nil)
	require.ErrorContains(t, err, "unknown environment variable CROSSGRAD_TUNE_BUDGE (did you mean CROSSGRAD_TUNE_BUDGET?)")
	assert.NotContains(t, NonKeyEnv, "CROSSGRAD_TUNE*")
	k, ok := EnvKey("CROSSGRAD_TUNE_BUDGET")
	assert.True(t, ok)
	assert.Equal(t, "tune_budget", k)
}
