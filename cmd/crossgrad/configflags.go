package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/crossgrad/crossgrad/config"
)

// addConfigFlags gives cmd --config and the flags of keys (every key when
// none is given), --device also as --backend.
func addConfigFlags(cmd *cobra.Command, keys ...string) {
	config.RegisterFlags(cmd.Flags(), keys...)
}

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
		name, _, _ := strings.Cut(kv, "=")
		if k, ok := config.EnvKey(name); ok {
			out[k] = true
		}
	}
	return out
}

// deviceList is the value of a --device flag naming several devices:
// selections as config.ParseBackends splits them (comma-separated, brackets
// allowed), repeated flags adding to the list; the first one replaces the
// default. backend.Select checks each entry when the command uses it.
type deviceList struct {
	list *[]string
	set  bool
}

// Set implements pflag.Value.
func (d *deviceList) Set(s string) error {
	l := config.ParseBackends(s)
	if len(l) == 0 {
		return fmt.Errorf("no device named; give e.g. auto, gpu, opencl:0 or [vulkan:0, ref]")
	}
	if !d.set {
		*d.list, d.set = nil, true
	}
	*d.list = append(*d.list, l...)
	return nil
}

// String implements pflag.Value.
func (d *deviceList) String() string { return strings.Join(*d.list, ",") }

// Type implements pflag.Value.
func (d *deviceList) Type() string { return "devices" }

// addDeviceFlag defines --device (also accepted as --backend) on fs,
// filling list, which starts as def.
func addDeviceFlag(fs *pflag.FlagSet, list *[]string, def []string, usage string) {
	*list = def
	fs.Var(&deviceList{list: list}, config.DeviceFlag, usage+"; brackets allowed (alias --backend)")
	config.AddFlagAlias(fs, config.BackendAlias, config.DeviceFlag)
}

// flagError is the commands' flag error handler: an unknown flag gets the
// flag most likely meant, or the commands that take it.
func flagError(cmd *cobra.Command, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return fmt.Errorf("%s: %w", cmd.Name(), err)
	}
	name, _, _ = strings.Cut(name, "=")
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	help := fmt.Sprintf("see %s --help", cmd.CommandPath())
	if s := config.Suggest(name, names); s != "" {
		return fmt.Errorf("%s: unknown flag --%s (did you mean --%s?); %s", cmd.Name(), name, s, help)
	}
	if others := commandsWithFlag(cmd.Root(), name); len(others) > 0 {
		return fmt.Errorf("%s: unknown flag --%s: %s does not use it (a flag of %s); %s", cmd.Name(), name, cmd.Name(), strings.Join(others, ", "), help)
	}
	return fmt.Errorf("%s: unknown flag --%s; %s", cmd.Name(), name, help)
}

// commandsWithFlag names the subcommands of root that define --name.
func commandsWithFlag(root *cobra.Command, name string) []string {
	var out []string
	for _, c := range root.Commands() {
		if f := c.Flags().Lookup(name); f != nil && !f.Hidden {
			out = append(out, c.Name())
		}
	}
	sort.Strings(out)
	return out
}
