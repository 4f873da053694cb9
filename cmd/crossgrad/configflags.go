package main

import (
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/crossgrad/crossgrad/config"
)

// loadConfig loads the configuration of cmd: its --config, CROSSGRAD_*
// variables and the config flags registered by config.RegisterFlags, and
// returns it with the keys set explicitly by flag or environment.
func loadConfig(cmd *cobra.Command) (config.Config, map[string]bool, error) {
	env := os.Environ()
	cfg, err := config.Load("", env, cmd.Flags())
	if err != nil {
		return config.Config{}, nil, err
	}
	return cfg, explicitKeys(cmd.Flags(), env), nil
}

// explicitKeys names the configuration keys set by a changed flag of fs or
// by a CROSSGRAD_<KEY> variable of env.
func explicitKeys(fs *pflag.FlagSet, env []string) map[string]bool {
	out := map[string]bool{}
	for _, k := range config.Keys() {
		if f := fs.Lookup(config.FlagName(k)); f != nil && f.Changed {
			out[k] = true
		}
	}
	for _, kv := range env {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, config.EnvPrefix) {
			continue
		}
		k := strings.ToLower(strings.TrimPrefix(name, config.EnvPrefix))
		for _, known := range config.Keys() {
			if k == known {
				out[k] = true
			}
		}
	}
	return out
}
